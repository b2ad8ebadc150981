/**
 * The TLS fixture of the model-client tests: a self-signed certificate (EC P-256, CN localhost, SAN
 * DNS:localhost and IP:127.0.0.1, valid to 2126), made with
 * `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout key.pem -out cert.pem
 * -days 36500 -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1
 * -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,digitalSignature,keyCertSign`.
 * A server presents it; a test that wants it accepted makes the client trust `cert` as its CA
 * (`trustModelCa`). Test-only: the key is public.
 */
import { readFileSync } from 'node:fs';

export const TEST_TLS = {
  key: readFileSync(new URL('./tls/key.pem', import.meta.url), 'utf8'),
  cert: readFileSync(new URL('./tls/cert.pem', import.meta.url), 'utf8'),
};
