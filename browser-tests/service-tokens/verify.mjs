// Service tokens checked by two verifiers no one here wrote, as a team's Node service
// would: `jose` (createRemoteJWKSet) and AWS's `aws-jwt-verify` (JwtVerifier), both
// pinned in ../package-lock.json. Run by scripts/service_tokens_e2e.py (scripts/test.sh);
// not a node --test file (it needs a running dev server and its tokens).
//
//   node verify.mjs BASE CASES.json
//   node verify.mjs BASE EXPECT=TOKEN...        (audience "orders")
//
// CASES.json: {"audience": "orders", "cases": [{"name", "token", "expect"}]}. expect:
// "accept", or the reason it must be refused: "audience", "expired", "signature",
// "unknown-key" (its kid is not in the JWKS), or "refuse" (any reason). Both verifiers
// start from the discovery document (its issuer must be BASE) and fetch its jwks_uri;
// RS256 only, no clock leeway; each case gets fresh verifiers (a JWKS fetched anew).
// aws-jwt-verify fetches a JWKS over https only: it gets the dev server's (http) through
// a fetcher of our own in its SimpleJwksCache. Prints "ok - ..." per verifier and case;
// "not ok - ..." and exit 1 if any answer differs.
import { readFileSync } from 'node:fs';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { JwtVerifier } from 'aws-jwt-verify';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import {
  JwtExpiredError,
  JwtInvalidAudienceError,
  JwtInvalidSignatureError,
  KidNotFoundInJwksError,
} from 'aws-jwt-verify/error';

const [base, ...rest] = process.argv.slice(2);
if (!base || rest.length === 0) {
  console.error('usage: node verify.mjs BASE CASES.json | BASE EXPECT=TOKEN...');
  process.exit(2);
}
const BASE = base.replace(/\/+$/, '');
let audience = 'orders';
let cases;
if (rest.length === 1 && rest[0].endsWith('.json')) {
  const file = JSON.parse(readFileSync(rest[0], 'utf8'));
  audience = file.audience ?? audience;
  cases = file.cases;
} else {
  cases = rest.map((arg, i) => {
    const at = arg.indexOf('=');
    return { name: `token ${i + 1}`, expect: arg.slice(0, at), token: arg.slice(at + 1) };
  });
}

// The reason each verifier gives, by its own error (code or class).
const JOSE = {
  audience: (e) => e.code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && e.claim === 'aud',
  expired: (e) => e.code === 'ERR_JWT_EXPIRED',
  signature: (e) => e.code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
  'unknown-key': (e) => e.code === 'ERR_JWKS_NO_MATCHING_KEY',
  refuse: () => true,
};
const AWS = {
  audience: (e) => e instanceof JwtInvalidAudienceError,
  expired: (e) => e instanceof JwtExpiredError,
  signature: (e) => e instanceof JwtInvalidSignatureError,
  'unknown-key': (e) => e instanceof KidNotFoundInJwksError,
  refuse: () => true,
};

const response = await fetch(`${BASE}/.well-known/openid-configuration`);
if (!response.ok) {
  console.error(`not ok - discovery: ${response.status}`);
  process.exit(1);
}
const conf = await response.json();
if (conf.issuer !== BASE) {
  console.error(`not ok - discovery: issuer ${conf.issuer}, expected ${BASE}`);
  process.exit(1);
}

const httpFetcher = { fetch: async (uri) => (await globalThis.fetch(uri)).arrayBuffer() };
const verifiers = {
  [`jose ${version('jose')}`]: {
    reasons: JOSE,
    verify: async (token) => {
      const jwks = createRemoteJWKSet(new URL(conf.jwks_uri));
      const { payload } = await jwtVerify(token, jwks, {
        issuer: conf.issuer,
        audience,
        algorithms: ['RS256'],
        requiredClaims: ['exp', 'iat', 'sub'],
      });
      return payload;
    },
  },
  [`aws-jwt-verify ${version('aws-jwt-verify')}`]: {
    reasons: AWS,
    verify: (token) =>
      JwtVerifier.create(
        { issuer: conf.issuer, audience, jwksUri: conf.jwks_uri },
        { jwksCache: new SimpleJwksCache({ fetcher: httpFetcher }) },
      ).verify(token),
  },
};

let failed = false;
for (const { name, token, expect } of cases) {
  for (const [label, { reasons, verify }] of Object.entries(verifiers)) {
    let line;
    try {
      const payload = await verify(token);
      line = expect === 'accept'
        ? `ok - ${label}: ${name}: accepted, sub ${payload.sub}`
        : `not ok - ${label}: ${name}: accepted, expected a refusal (${expect})`;
    } catch (e) {
      const why = `${e.code ?? e.constructor.name}: ${e.message}`;
      if (expect === 'accept') line = `not ok - ${label}: ${name}: refused: ${why}`;
      else if (!(expect in reasons)) line = `not ok - ${label}: ${name}: unknown expectation ${expect}`;
      else if (reasons[expect](e)) line = `ok - ${label}: ${name}: refused (${why})`;
      else line = `not ok - ${label}: ${name}: refused, but not for ${expect}: ${why}`;
    }
    failed ||= line.startsWith('not ok');
    console.log(line);
  }
}
process.exit(failed ? 1 : 0);

function version(pkg) {
  const url = new URL(`../node_modules/${pkg}/package.json`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')).version;
}
