//! Unprocessed batch keys and items, throttling and unreadable 5xx answers:
//! what the store retries, and what it answers when retries run out.

use super::*;

#[tokio::test]
async fn unprocessed_keys_of_a_batch_read_are_read_again() {
    let (store, http) = store(vec![
        answer(
            200,
            json!({
                "Responses": { TABLE: [profile_item()] },
                "UnprocessedKeys": { TABLE: {
                    "Keys": [{"pk": {"S": "USER#gus"}, "sk": {"S": "SESSION#s1"}}],
                    "ConsistentRead": true
                }}
            }),
        ),
        answer(
            200,
            json!({ "Responses": { TABLE: [session_item()] }, "UnprocessedKeys": {} }),
        ),
    ])
    .await;

    let user = store
        .session_user(
            &Username::from_stored("gus".into()),
            &SessionId::from_stored("s1".into()),
            NOW,
        )
        .await
        .unwrap();

    assert_eq!(
        user.map(|u| u.username.as_str().to_owned()).as_deref(),
        Some("Gus")
    );
    let sent = sent(&http);
    assert_eq!(sent.len(), 2);
    assert_eq!(
        sent[1]["RequestItems"][TABLE]["Keys"],
        json!([{"pk": {"S": "USER#gus"}, "sk": {"S": "SESSION#s1"}}]),
        "only the unprocessed key is asked for again"
    );
}

#[tokio::test]
async fn unprocessed_items_of_a_batch_write_are_written_again() {
    let session_key = json!({"pk": {"S": "USER#gus"}, "sk": {"S": "SESSION#s1"}});
    let (store, http) = store(vec![
        // The reset transaction (consume the token, set the password).
        answer(200, json!({})),
        // The user's partition: profile and one session.
        answer(
            200,
            json!({ "Items": [profile_item(), session_item()], "Count": 2, "ScannedCount": 2 }),
        ),
        // Deleting the session and the failure run: the session comes back unprocessed.
        answer(
            200,
            json!({ "UnprocessedItems": { TABLE: [{"DeleteRequest": {"Key": session_key}}] } }),
        ),
        answer(200, json!({ "UnprocessedItems": {} })),
    ])
    .await;

    let user = store
        .reset_password(&token(TokenPurpose::Reset), "$argon2id$new", NOW)
        .await
        .unwrap();

    assert!(user.is_some());
    let sent = sent(&http);
    assert_eq!(sent.len(), 4);
    assert_eq!(
        sent[3]["RequestItems"][TABLE],
        json!([{"DeleteRequest": {"Key": session_key}}]),
        "only the unprocessed delete is sent again"
    );
}

#[tokio::test]
async fn throttling_is_retried_then_answers_503() {
    for code in [
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
    ] {
        let (store, http) = store(vec![
            error(code, json!({})),
            error(code, json!({})),
            error(code, json!({})),
        ])
        .await;

        let err = store
            .get_user(&Username::from_stored("gus".into()))
            .await
            .unwrap_err();

        assert!(matches!(err, StoreError::Unavailable(_)), "{code}: {err:?}");
        assert_eq!(ApiError::from(err).status().as_u16(), 503, "{code}");
        assert_eq!(sent(&http).len(), 3, "{code}: the SDK's three attempts");
    }
}

#[tokio::test]
async fn throttling_that_clears_within_the_retries_succeeds() {
    let (store, http) = store(vec![
        error("ThrottlingException", json!({})),
        answer(200, json!({ "Item": profile_item() })),
    ])
    .await;

    let user = store
        .get_user(&Username::from_stored("gus".into()))
        .await
        .unwrap();

    assert!(user.is_some());
    assert_eq!(sent(&http).len(), 2);
}

#[tokio::test]
async fn a_5xx_the_sdk_cannot_read_is_503_not_500() {
    // A failing front end or proxy answers with HTML; the SDK retries it and
    // then gives up without an error code.
    let html = || {
        ReplayEvent::new(
            HttpRequest::get("https://dynamodb.invalid/").unwrap(),
            HttpResponse::new(
                StatusCode::try_from(500).unwrap(),
                SdkBody::from("<html><body>Internal Server Error</body></html>"),
            ),
        )
    };
    for events in [
        vec![html(), html(), html()],
        vec![
            answer(
                500,
                json!({"__type": "com.amazonaws.dynamodb.v20120810#InternalServerError"}),
            ),
            answer(
                500,
                json!({"__type": "com.amazonaws.dynamodb.v20120810#InternalServerError"}),
            ),
            answer(
                500,
                json!({"__type": "com.amazonaws.dynamodb.v20120810#InternalServerError"}),
            ),
        ],
    ] {
        let (store, _) = store(events).await;

        let err = store
            .get_user(&Username::from_stored("gus".into()))
            .await
            .unwrap_err();

        assert_eq!(ApiError::from(err).status().as_u16(), 503);
    }
}
