//! The repository's own files, as the packaging tests read them.

use std::collections::HashMap;

/// The repository root.
pub fn repo() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// For each function (by binary name) in template.yaml, the `dynamodb:*`
/// actions its inline policy grants.
pub fn template_dynamodb_actions() -> HashMap<String, std::collections::BTreeSet<String>> {
    let template = std::fs::read_to_string(repo().join("template.yaml")).unwrap();
    let mut out = HashMap::new();
    for block in template.split("Type: AWS::Serverless::Function").skip(1) {
        let binary = block
            .lines()
            .find_map(|l| l.trim().strip_prefix("Binary: "))
            .unwrap()
            .trim()
            .to_owned();
        let actions = block
            .lines()
            .filter_map(|l| {
                let l = l
                    .trim()
                    .trim_start_matches("- ")
                    .trim_start_matches("Action: ");
                l.strip_prefix("dynamodb:").map(str::to_owned)
            })
            .collect();
        out.insert(binary, actions);
    }
    out
}
