#!/bin/sh
# Regenerates the auth test data with the openssl CLI, independently of
# garret's code. Golden tokens are signed here with `openssl dgst`, so the
# unit tests check garret's JWT code against another implementation.
set -eu
cd "$(dirname "$0")"

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa_pkcs8.pem 2>/dev/null
openssl rsa -in rsa_pkcs8.pem -traditional -out rsa_private.pem 2>/dev/null
openssl rsa -in rsa_pkcs8.pem -pubout -out rsa_public.pem 2>/dev/null
openssl rsa -in rsa_pkcs8.pem -RSAPublicKey_out -out rsa_public_pkcs1.pem 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa_other.pem 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out rsa_1024.pem 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -aes-256-cbc \
  -pass pass:secret -out rsa_encrypted.pem 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec_private.pem 2>/dev/null

b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }

header='{"alg":"HS256","typ":"JWT"}'
# An Attic-shaped payload: patterns deliberately not in sorted order.
payload='{"sub":"meow","exp":4102324986,"https://jwt.attic.rs/v1":{"caches":{"team-*":{"r":1,"w":1,"cc":1},"all-ci-*":{"w":1},"all-*":{"r":1},"cache-rw":{"r":1,"w":1},"cache-ro":{"r":1}}}}'
secret='a golden test secret'
printf '%s' "$secret" > hs256_secret.txt
input="$(printf '%s' "$header" | b64url).$(printf '%s' "$payload" | b64url)"
sig=$(printf '%s' "$input" | openssl dgst -sha256 -hmac "$secret" -binary | b64url)
printf '%s.%s\n' "$input" "$sig" > hs256_golden.jwt

header='{"alg":"RS256","typ":"JWT"}'
input="$(printf '%s' "$header" | b64url).$(printf '%s' "$payload" | b64url)"
sig=$(printf '%s' "$input" | openssl dgst -sha256 -sign rsa_private.pem -binary | b64url)
printf '%s.%s\n' "$input" "$sig" > rs256_golden.jwt
