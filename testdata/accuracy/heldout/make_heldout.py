#!/usr/bin/env python3
"""Held-out labelled corpus for the detection-accuracy evaluation.

    python3 testdata/accuracy/heldout/make_heldout.py OUT_DIR [--seed N]

Writes realistic files into OUT_DIR/corpus/ and their labels into OUT_DIR/labels.json: a list
of {"file", "line", "end", "category", "kind", "what"} where kind is "pos" (a secret a reviewer
must see) or "neg" (a hard negative: a line that looks like one but is not), category is the
group used for per-category figures (a hard negative carries the group it is a near miss of,
or a group of its own), and "what" names the exact kind.

Written from vendors' documented token formats and common file layouts, without reference to
the project's rules. Every secret is generated at run time from a seeded generator with the
vendor's structure (GitHub and npm CRC32 checksums in base62, JWT headers that decode to JSON,
ASN.1 private-key bodies, OpenSSH and PuTTY key structures); none is, or ever was, a live
credential.
"""

import argparse
import base64
import hashlib
import json
import os
import random
import string
import struct
import sys
import zlib

B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
HEX = "0123456789abcdef"
ALNUM = string.ascii_letters + string.digits
URLSAFE = ALNUM + "-_"
B64 = ALNUM + "+/"

R = random.Random(0)
PNG_HEAD = b"\x89PNG\r\n\x1a\n"


def rs(n, alphabet=ALNUM):
    return "".join(R.choice(alphabet) for _ in range(n))


def b62(n, width):
    out = ""
    while n:
        n, d = divmod(n, 62)
        out = B62[d] + out
    return out.rjust(width, "0")


def crc_token(prefix, entropy=30):
    body = rs(entropy, B62)
    return prefix + body + b62(zlib.crc32(body.encode()), 6)


def b64u(data):
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def jwt(alg="HS256", claims=None):
    head = b64u(json.dumps({"alg": alg, "typ": "JWT"}, separators=(",", ":")).encode())
    claims = claims or {"sub": str(R.randint(10**6, 10**7)), "name": "svc-" + rs(5, string.ascii_lowercase),
                        "iat": R.randint(1.6e9, 1.7e9)}
    body = b64u(json.dumps(claims, separators=(",", ":")).encode())
    sig = b64u(R.randbytes(32 if alg.startswith("HS") else 256))
    return f"{head}.{body}.{sig}"


# --- ASN.1 / key material built by hand (structure only; numbers are random, not real keys) ---

def der_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def der(tag, body):
    return bytes([tag]) + der_len(len(body)) + body


def der_int(v):
    if isinstance(v, int):
        b = v.to_bytes(max(1, (v.bit_length() + 8) // 8), "big")
    else:
        b = b"\x00" + v if v[0] & 0x80 else v
    return der(0x02, b)


def seq(*parts):
    return der(0x30, b"".join(parts))


def rsa_pkcs1(bits=2048):
    n = R.randbytes(bits // 8)
    half = R.randbytes(bits // 16)
    return seq(der_int(0), der_int(n), der_int(65537), der_int(R.randbytes(bits // 8)), der_int(half),
               der_int(R.randbytes(bits // 16)), der_int(R.randbytes(bits // 16)), der_int(R.randbytes(bits // 16)),
               der_int(R.randbytes(bits // 16)))


RSA_OID = der(0x06, bytes.fromhex("2a864886f70d010101"))


def pkcs8_rsa():
    return seq(der_int(0), seq(RSA_OID, b"\x05\x00"), der(0x04, rsa_pkcs1()))


def ec_key():
    return seq(der_int(1), der(0x04, R.randbytes(32)), der(0xA0, der(0x06, bytes.fromhex("2a8648ce3d030107"))),
               der(0xA1, der(0x03, b"\x00\x04" + R.randbytes(64))))


def pem(label, blob):
    b = base64.b64encode(blob).decode()
    lines = [b[i:i + 64] for i in range(0, len(b), 64)]
    return [f"-----BEGIN {label}-----"] + lines + [f"-----END {label}-----"]


def sshstr(b):
    if isinstance(b, str):
        b = b.encode()
    return struct.pack(">I", len(b)) + b


def openssh_ed25519(comment="deploy@ci"):
    pub = R.randbytes(32)
    pubblob = sshstr("ssh-ed25519") + sshstr(pub)
    chk = R.randbytes(4)
    priv = chk + chk + sshstr("ssh-ed25519") + sshstr(pub) + sshstr(R.randbytes(32) + pub) + sshstr(comment)
    pad = 1
    while len(priv) % 8:
        priv += bytes([pad])
        pad += 1
    blob = (b"openssh-key-v1\x00" + sshstr("none") + sshstr("none") + sshstr(b"") + struct.pack(">I", 1)
            + sshstr(pubblob) + sshstr(priv))
    b = base64.b64encode(blob).decode()
    return (["-----BEGIN OPENSSH PRIVATE KEY-----"] + [b[i:i + 70] for i in range(0, len(b), 70)]
            + ["-----END OPENSSH PRIVATE KEY-----"])


def ppk(version):
    if version == 2:
        pub = sshstr("ssh-rsa") + sshstr(b"\x01\x00\x01") + sshstr(b"\x00" + R.randbytes(256))
        priv = sshstr(R.randbytes(256)) + sshstr(R.randbytes(128)) + sshstr(R.randbytes(128)) + sshstr(R.randbytes(128))
        head = ["PuTTY-User-Key-File-2: ssh-rsa", "Encryption: none", "Comment: rsa-key-20230914"]
        mac = rs(40, HEX)
    else:
        pub = sshstr("ssh-ed25519") + sshstr(R.randbytes(32))
        priv = sshstr(R.randbytes(32))
        head = ["PuTTY-User-Key-File-3: ssh-ed25519", "Encryption: none", "Comment: eddsa-key-20240502"]
        mac = rs(64, HEX)
    pb = base64.b64encode(pub).decode()
    kb = base64.b64encode(priv).decode()
    pl = [pb[i:i + 64] for i in range(0, len(pb), 64)]
    kl = [kb[i:i + 64] for i in range(0, len(kb), 64)]
    return head, [f"Public-Lines: {len(pl)}"] + pl, [f"Private-Lines: {len(kl)}"] + kl + [f"Private-MAC: {mac}"]


# --- vendor tokens ---

def aws_id(prefix="AKIA"):
    return prefix + rs(16, string.ascii_uppercase + "234567")


def aws_secret():
    return rs(40, B64)


def gcp_api_key():
    return "AIza" + rs(35, URLSAFE)


def azure_storage_key():
    return base64.b64encode(R.randbytes(64)).decode()


def azure_client_secret():
    return rs(3, ALNUM) + str(R.randint(0, 9)) + "Q~" + rs(34, ALNUM + "_~.-")


def slack(kind="xoxb"):
    if kind == "xoxp":
        return f"xoxp-{R.randint(10**10, 10**11)}-{R.randint(10**10, 10**11)}-{R.randint(10**12, 10**13)}-{rs(32, HEX)}"
    return f"{kind}-{R.randint(10**10, 10**11)}-{R.randint(10**12, 10**13)}-{rs(24)}"


def slack_webhook():
    return (f"https://hooks.slack.com/services/T{rs(8, string.ascii_uppercase + string.digits)}/"
            f"B{rs(10, string.ascii_uppercase + string.digits)}/{rs(24)}")


def stripe(prefix="sk_live_"):
    return prefix + rs(R.choice([24, 99]), ALNUM)


def sendgrid():
    return "SG." + rs(22, URLSAFE) + "." + rs(43, URLSAFE)


def pypi():
    macaroon = b"\x02\x01\x08pypi.org\x02\x06" + R.randbytes(96)
    return "pypi-AgEIcHlwaS5vcmc" + base64.urlsafe_b64encode(macaroon[12:]).decode().rstrip("=")


# --- corpus building ---

class Corpus:
    def __init__(self, root):
        self.root = root
        self.labels = []

    def file(self, path, items):
        """items: strings (unlabelled lines or blocks) or (text, kind, category, what)."""
        lines = []
        for it in items:
            if isinstance(it, str):
                lines.extend(it.split("\n"))
                continue
            text, kind, cat, what = it
            block = text if isinstance(text, list) else text.split("\n")
            start = len(lines) + 1
            lines.extend(block)
            self.labels.append({"file": path, "line": start, "end": start + len(block) - 1, "category": cat,
                                "kind": kind, "what": what})
        full = os.path.join(self.root, "corpus", path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w", newline="\n") as f:
            f.write("\n".join(lines) + "\n")


def P(text, cat, what):
    return (text, "pos", cat, what)


def N(text, cat, what):
    return (text, "neg", cat, what)


def build(c):
    # ---------------- cloud ----------------
    ak, sk = aws_id(), aws_secret()
    c.file("ops/aws/credentials", [
        "[default]",
        P(f"aws_access_key_id = {ak}", "cloud", "aws-access-key-id"),
        P(f"aws_secret_access_key = {sk}", "cloud", "aws-secret-access-key"),
        "region = eu-west-1",
        "",
        "[example]",
        N("aws_access_key_id = AKIAIOSFODNN7EXAMPLE", "cloud", "documented-example"),
        N("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "cloud", "documented-example"),
    ])
    ak2, sk2 = aws_id("ASIA"), aws_secret()
    c.file("services/uploader/settings.py", [
        "import os",
        "",
        "BUCKET = 'acme-prod-uploads'",
        P(f"AWS_ACCESS_KEY_ID = '{ak2}'", "cloud", "aws-access-key-id"),
        P(f"AWS_SECRET_ACCESS_KEY = '{sk2}'", "cloud", "aws-secret-access-key"),
        N("AWS_SESSION_TOKEN = os.environ.get('AWS_SESSION_TOKEN')", "cloud", "env-ref"),
        N("AWS_SECRET_ACCESS_KEY_NAME = 'aws_secret_access_key'", "cloud", "config-name"),
        N("s3_key_template = 'uploads/{tenant}/{yyyy}/{mm}/{uuid}.bin'", "cloud", "url-template"),
    ])
    sak = aws_secret()
    c.file("infra/terraform/providers.tf", [
        'provider "aws" {',
        '  region     = var.region',
        P(f'  access_key = "{aws_id()}"', "cloud", "aws-access-key-id"),
        P(f'  secret_key = "{sak}"', "cloud", "aws-secret-access-key"),
        "}",
        "",
        'variable "db_password" {',
        N('  description = "Password of the master database user"', "config-password", "sentence"),
        "  type        = string",
        "  sensitive   = true",
        "}",
        N('resource "aws_iam_access_key" "deploy" { user = aws_iam_user.deploy.name }', "cloud", "identifier"),
        N('output "secret_key" { value = aws_iam_access_key.deploy.secret, sensitive = true }', "cloud", "identifier"),
    ])
    pkid = rs(40, HEX)
    key = pem("PRIVATE KEY", pkcs8_rsa())
    escaped = "\\n".join(key) + "\\n"
    c.file("deploy/gcp/service-account.json", [
        "{",
        '  "type": "service_account",',
        '  "project_id": "acme-analytics-prod",',
        P(f'  "private_key_id": "{pkid}",', "cloud", "gcp-private-key-id"),
        P(f'  "private_key": "{escaped}",', "private-key", "gcp-sa-private-key"),
        '  "client_email": "etl-runner@acme-analytics-prod.iam.gserviceaccount.com",',
        N(f'  "client_id": "{R.randint(10**20, 10**21)}",', "cloud", "identifier"),
        '  "auth_uri": "https://accounts.google.com/o/oauth2/auth",',
        '  "token_uri": "https://oauth2.googleapis.com/token",',
        N('  "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",', "cloud", "url"),
        '  "universe_domain": "googleapis.com"',
        "}",
    ])
    c.file("web/src/firebase.ts", [
        "import { initializeApp } from 'firebase/app';",
        "",
        "export const app = initializeApp({",
        P(f"  apiKey: '{gcp_api_key()}',", "cloud", "gcp-api-key"),
        "  authDomain: 'acme-web.firebaseapp.com',",
        "  projectId: 'acme-web',",
        N("  appId: '1:123456789012:web:abcdef0123456789',", "cloud", "identifier"),
        "});",
        N("const keyName = process.env.NEXT_PUBLIC_MAPS_API_KEY;", "cloud", "env-ref"),
    ])
    acct = "acmeprodstore"
    c.file("src/Acme.Api/appsettings.Production.json", [
        "{",
        '  "ConnectionStrings": {',
        P(f'    "Blob": "DefaultEndpointsProtocol=https;AccountName={acct};AccountKey={azure_storage_key()};EndpointSuffix=core.windows.net",',
          "cloud", "azure-storage-key"),
        P(f'    "Sql": "Server=tcp:acme-sql.database.windows.net,1433;Initial Catalog=orders;User ID=orders_app;Password={rs(18)}!;Encrypt=True;",',
          "db-url", "ado-connection-string"),
        N('    "Local": "Server=(localdb)\\\\mssqllocaldb;Database=orders;Trusted_Connection=True;"', "db-url", "no-password"),
        "  },",
        '  "AzureAd": {',
        '    "Instance": "https://login.microsoftonline.com/",',
        N(f'    "TenantId": "{uuid()}",', "cloud", "uuid"),
        N(f'    "ClientId": "{uuid()}",', "cloud", "uuid"),
        P(f'    "ClientSecret": "{azure_client_secret()}"', "cloud", "azure-client-secret"),
        "  },",
        N('  "KeyVault": { "SecretName": "Orders--ClientSecret" },', "cloud", "config-name"),
        '  "Logging": { "LogLevel": { "Default": "Information" } }',
        "}",
    ])
    c.file("deploy/.env.production", [
        "# generated by ops; do not commit (it was)",
        P(f"AZURE_CLIENT_SECRET={azure_client_secret()}", "cloud", "azure-client-secret"),
        P(f"DIGITALOCEAN_TOKEN=dop_v1_{rs(64, HEX)}", "cloud", "digitalocean-token"),
        P(f"ALIBABA_CLOUD_ACCESS_KEY_ID=LTAI{rs(20, ALNUM)}", "cloud", "alibaba-access-key-id"),
        P(f"ALIBABA_CLOUD_ACCESS_KEY_SECRET={rs(30, ALNUM)}", "cloud", "alibaba-secret"),
        P(f"DATABASE_URL=postgres://app:{rs(20)}@db.internal:5432/app_prod", "db-url", "postgres-url"),
        P(f"REDIS_URL=redis://:{rs(32, HEX)}@cache.internal:6379/0", "db-url", "redis-url"),
        N("SENTRY_DSN=", "config-password", "empty"),
        N("LOG_LEVEL=info", "config-password", "plain-setting"),
        P(f"SECRET_KEY_BASE={rs(128, HEX)}", "framework", "rails-secret-key-base"),
    ])

    # ---------------- vcs / package registries ----------------
    ghp = crc_token("ghp_")
    c.file("scripts/release.sh", [
        "#!/usr/bin/env bash",
        "set -euo pipefail",
        P(f'export GITHUB_TOKEN="{ghp}"', "vcs", "github-pat"),
        N('export GH_TOKEN="${GITHUB_TOKEN:?set GITHUB_TOKEN}"', "vcs", "env-ref"),
        N('curl -sf -H "Authorization: token $GITHUB_TOKEN" https://api.github.com/repos/acme/app/releases', "vcs", "env-ref"),
        N("git rev-parse HEAD  # e.g. 3f786850e387550fdab836ed7e6dc881de23001b", "vcs", "git-sha"),
        P(f"git push https://x-access-token:{crc_token('ghs_')}@github.com/acme/app.git HEAD:main", "vcs", "github-app-token"),
    ])
    c.file("tools/sync_issues.go", [
        "package main",
        "",
        'import "net/http"',
        "",
        "const (",
        N('\tgithubAPI   = "https://api.github.com/repos/%s/%s/issues?state=%s&page=%d"', "vcs", "url-template"),
        P(f'\tgithubToken = "{crc_token("gho_")}"', "vcs", "github-oauth-token"),
        N('\ttokenHeader = "Authorization"', "vcs", "identifier"),
        ")",
        "",
        "func newRequest(url string) (*http.Request, error) {",
        '\treq, err := http.NewRequest("GET", url, nil)',
        '\treq.Header.Set(tokenHeader, "Bearer "+githubToken)',
        "\treturn req, err",
        "}",
    ])
    fine = "github_pat_" + rs(22, ALNUM) + "_" + rs(59, ALNUM)
    c.file("ci/.github/workflows/publish.yml", [
        "name: publish",
        "on: { push: { tags: ['v*'] } }",
        "jobs:",
        "  publish:",
        "    runs-on: ubuntu-latest",
        "    env:",
        N("      NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}", "vcs", "env-ref"),
        N("      GH_TOKEN: ${{ github.token }}", "vcs", "env-ref"),
        P(f"      FALLBACK_TOKEN: {fine}", "vcs", "github-fine-grained-pat"),
        "    steps:",
        N("      - uses: actions/checkout@b4ffde65f46336ab88eb53be808477a3936bae11 # v4.1.1", "vcs", "git-sha"),
        N("      - uses: actions/setup-node@60edb5dd545a775178f52524783378180af0d1f8", "vcs", "git-sha"),
        "      - run: npm publish --provenance",
    ])
    c.file("ci/.gitlab-ci.yml", [
        "stages: [build, deploy]",
        "variables:",
        P(f"  GITLAB_API_TOKEN: glpat-{rs(20, URLSAFE)}", "vcs", "gitlab-pat"),
        N("  CI_JOB_TOKEN_NAME: CI_JOB_TOKEN", "vcs", "config-name"),
        N("  REGISTRY_PASSWORD: $CI_REGISTRY_PASSWORD", "vcs", "env-ref"),
        "deploy:",
        "  stage: deploy",
        "  script:",
        N('    - docker login -u "$CI_REGISTRY_USER" -p "$CI_REGISTRY_PASSWORD" "$CI_REGISTRY"', "vcs", "env-ref"),
        P(f"    - gitlab-runner register --token glrt-{rs(20, URLSAFE)} --url https://gitlab.acme.io", "vcs", "gitlab-runner-token"),
    ])
    npm_tok = crc_token("npm_")
    c.file("frontend/.npmrc", [
        "registry=https://registry.npmjs.org/",
        P(f"//registry.npmjs.org/:_authToken={npm_tok}", "vcs", "npm-token"),
        N("//npm.pkg.github.com/:_authToken=${GITHUB_PACKAGES_TOKEN}", "vcs", "env-ref"),
        "@acme:registry=https://npm.pkg.github.com",
        P(f"//nexus.acme.io/repository/npm/:_auth={base64.b64encode(('ci-bot:' + rs(16)).encode()).decode()}", "credential-file", "npmrc-basic-auth"),
        "always-auth=true",
    ])
    c.file("backend/.pypirc", [
        "[distutils]",
        "index-servers =",
        "    pypi",
        "    internal",
        "",
        "[pypi]",
        "username = __token__",
        P(f"password = {pypi()}", "vcs", "pypi-token"),
        "",
        "[internal]",
        "repository = https://pypi.acme.io/simple/",
        "username = deployer",
        P(f"password = {rs(14)}", "credential-file", "pypirc-password"),
    ])
    c.file("frontend/package-lock.json", [
        "{",
        '  "name": "acme-web",',
        '  "lockfileVersion": 3,',
        '  "packages": {',
        '    "node_modules/react": {',
        N('      "version": "18.3.1",', "version-hash", "version"),
        N('      "resolved": "https://registry.npmjs.org/react/-/react-18.3.1.tgz",', "version-hash", "url"),
        N(f'      "integrity": "sha512-{base64.b64encode(R.randbytes(64)).decode()}",', "version-hash", "lockfile-integrity"),
        "    },",
        '    "node_modules/loose-envify": {',
        N(f'      "integrity": "sha512-{base64.b64encode(R.randbytes(64)).decode()}",', "version-hash", "lockfile-integrity"),
        N('      "dependencies": { "js-tokens": "^3.0.0 || ^4.0.0" }', "version-hash", "version"),
        "    }",
        "  }",
        "}",
    ])
    c.file("backend/poetry.lock", [
        "[[package]]",
        'name = "requests"',
        N('version = "2.32.3"', "version-hash", "version"),
        "files = [",
        N(f'    {{file = "requests-2.32.3-py3-none-any.whl", hash = "sha256:{rs(64, HEX)}"}},', "version-hash", "lockfile-hash"),
        N(f'    {{file = "requests-2.32.3.tar.gz", hash = "sha256:{rs(64, HEX)}"}},', "version-hash", "lockfile-hash"),
        "]",
        "",
        "[metadata]",
        N(f'content-hash = "{rs(64, HEX)}"', "version-hash", "lockfile-hash"),
    ])
    bad = crc_token("ghp_")
    bad = bad[:-6] + ("000000" if bad[-6:] != "000000" else "111111")
    c.file("tests/fixtures/test_token_parse.py", [
        "import pytest",
        "",
        "# Tokens whose checksum does not verify: the parser must reject them.",
        N(f'BROKEN = "{bad}"', "vcs", "bad-checksum"),
        N('PLACEHOLDER = "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"', "vcs", "placeholder"),
        "",
        "def test_rejects_broken():",
        "    with pytest.raises(ValueError):",
        "        parse_token(BROKEN)",
    ])

    # ---------------- saas ----------------
    c.file("app/config/notifications.rb", [
        "Rails.application.configure do",
        P(f"  config.slack_bot_token = '{slack('xoxb')}'", "saas", "slack-bot-token"),
        P(f"  config.slack_webhook = '{slack_webhook()}'", "saas", "slack-webhook"),
        N("  config.slack_channel = '#deploys'", "saas", "identifier"),
        N("  config.slack_token = ENV.fetch('SLACK_TOKEN')", "saas", "env-ref"),
        "end",
    ])
    c.file("bots/standup.py", [
        "from slack_sdk import WebClient",
        "",
        P(f'client = WebClient(token="{slack("xoxp")}")', "saas", "slack-user-token"),
        N('client.chat_postMessage(channel="C024BE91L", text="Stand-up in 5 minutes, token of appreciation: coffee")', "saas", "sentence"),
    ])
    c.file("payments/stripe_client.js", [
        "const Stripe = require('stripe');",
        P(f"const stripe = Stripe('{stripe('sk_live_')}');", "saas", "stripe-secret-key"),
        P(f"const restricted = '{stripe('rk_live_')}';", "saas", "stripe-restricted-key"),
        P(f"const endpointSecret = 'whsec_{rs(32)}';", "saas", "stripe-webhook-secret"),
        N("const testKey = 'sk_test_...';  // see dashboard", "saas", "placeholder"),
        N("const keyEnv = process.env.STRIPE_SECRET_KEY || '';", "saas", "env-ref"),
        N("const priceId = 'price_1NqPZz2eZvKYlo2C';", "saas", "identifier"),
        N("const customer = 'cus_NffrFeUfNV2Hib';", "saas", "identifier"),
    ])
    c.file("messaging/src/main/resources/application.properties", [
        "spring.application.name=messaging",
        "server.port=8080",
        P(f"spring.datasource.url=jdbc:postgresql://db.acme.io:5432/messaging?user=msg&password={rs(16)}", "db-url", "jdbc-url"),
        "spring.datasource.username=messaging",
        P(f"spring.datasource.password={rs(12)}#{rs(4)}", "config-password", "spring-password"),
        N("twilio.account-sid=AC" + rs(32, HEX), "saas", "identifier"),
        P(f"twilio.auth-token={rs(32, HEX)}", "saas", "twilio-auth-token"),
        P(f"sendgrid.api-key={sendgrid()}", "saas", "sendgrid-key"),
        N("spring.mail.password=${MAIL_PASSWORD}", "config-password", "env-ref"),
        N("management.endpoints.web.exposure.include=health,info", "config-password", "plain-setting"),
        N("spring.security.oauth2.client.registration.github.client-secret=${GITHUB_CLIENT_SECRET:}", "config-password", "env-ref"),
    ])
    c.file("messaging/notify.cs", [
        "using Twilio;",
        "namespace Acme.Messaging {",
        "  public static class Notify {",
        P(f'    const string ApiKeySid = "SK{rs(32, HEX)}";', "saas", "twilio-api-key-sid"),
        P(f'    const string ApiKeySecret = "{rs(32)}";', "saas", "twilio-api-key-secret"),
        N('    const string ApiKeyHeader = "X-Api-Key";', "saas", "identifier"),
        N('    const string TemplateSid = "HX0123456789abcdef0123456789abcdef";  // content template id (docs example)', "saas", "identifier"),
        "  }",
        "}",
    ])
    c.file("shop/config.php", [
        "<?php",
        "return [",
        "    'shop' => 'acme-outlet.myshopify.com',",
        P(f"    'access_token' => 'shpat_{rs(32, HEX)}',", "saas", "shopify-access-token"),
        P(f"    'shared_secret' => 'shpss_{rs(32, HEX)}',", "saas", "shopify-shared-secret"),
        P(f"    'mailgun_key' => 'key-{rs(32, HEX)}',", "saas", "mailgun-key"),
        P(f"    'mailchimp_key' => '{rs(32, HEX)}-us14',", "saas", "mailchimp-key"),
        N("    'api_version' => '2024-07',", "saas", "version"),
        N("    'webhook_path' => '/webhooks/shopify/orders-create',", "saas", "path"),
        "];",
    ])
    c.file("ml/pipeline.ipynb", [
        "{",
        ' "cells": [',
        "  {",
        '   "cell_type": "code",',
        '   "execution_count": 3,',
        '   "metadata": {},',
        '   "outputs": [],',
        '   "source": [',
        '    "import openai\\n",',
        P(f'    "openai.api_key = \\"sk-proj-{rs(48, URLSAFE)}T3BlbkFJ{rs(48, URLSAFE)}\\"\\n",', "saas", "openai-key"),
        P(f'    "HF_TOKEN = \\"hf_{rs(34, string.ascii_letters)}\\"\\n",', "saas", "huggingface-token"),
        N('    "MODEL = \\"gpt-4o-mini-2024-07-18\\"\\n",', "saas", "version"),
        P(f'    "client = anthropic.Anthropic(api_key=\\"sk-ant-api03-{rs(93, URLSAFE)}AA\\")"', "saas", "anthropic-key"),
        "   ]",
        "  },",
        "  {",
        '   "cell_type": "markdown",',
        '   "metadata": {},',
        N('   "source": ["Set `OPENAI_API_KEY` in your environment; never paste the key into a notebook."]', "saas", "sentence"),
        "  }",
        " ],",
        ' "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},',
        ' "nbformat": 4,',
        ' "nbformat_minor": 5',
        "}",
    ])
    c.file("chatops/bot.rs", [
        "use std::env;",
        "",
        P(f'const TELEGRAM_TOKEN: &str = "{R.randint(10**9, 7 * 10**9)}:AA{rs(33, URLSAFE)}";', "saas", "telegram-bot-token"),
        P(f'const DISCORD_WEBHOOK: &str = "https://discord.com/api/webhooks/{R.randint(10**17, 10**18)}/{rs(68, URLSAFE)}";', "saas", "discord-webhook"),
        N('const TOKEN_VAR: &str = "TELEGRAM_BOT_TOKEN";', "saas", "config-name"),
        "",
        "fn token() -> String {",
        N('    env::var(TOKEN_VAR).unwrap_or_else(|_| String::from("<your-bot-token>"))', "saas", "placeholder"),
        "}",
    ])
    c.file("monitoring/datadog.yaml", [
        P(f"api_key: {rs(32, HEX)}", "saas", "datadog-api-key"),
        P(f"app_key: {rs(40, HEX)}", "saas", "datadog-app-key"),
        "site: datadoghq.eu",
        "logs_enabled: true",
        N("hostname_file: /etc/datadog-agent/hostname", "generic", "path"),
        N("api_key_file: /run/secrets/dd_api_key", "generic", "path"),
    ])
    c.file("infra/vault/bootstrap.sh", [
        "#!/bin/sh",
        P(f"export VAULT_TOKEN=hvs.{rs(24, URLSAFE)}", "saas", "vault-token"),
        P(f"export TFE_TOKEN={rs(14)}.atlasv1.{rs(67)}", "saas", "terraform-cloud-token"),
        P(f"export NEW_RELIC_API_KEY=NRAK-{rs(27, string.ascii_uppercase + string.digits)}", "saas", "newrelic-key"),
        P(f"export DATABRICKS_TOKEN=dapi{rs(32, HEX)}", "saas", "databricks-token"),
        P(f"export POSTMAN_API_KEY=PMAK-{rs(24, HEX)}-{rs(34, HEX)}", "saas", "postman-key"),
        N("export VAULT_ADDR=https://vault.acme.io:8200", "saas", "url"),
        N('vault kv get -field=password secret/data/db/prod > "$HOME/.dbpass"', "saas", "path"),
        N("export VAULT_TOKEN=$(cat /run/secrets/vault-token)", "saas", "env-ref"),
    ])

    # ---------------- JWTs ----------------
    c.file("api/tests/auth_test.go", [
        "package auth",
        "",
        "// A signed token captured from staging (should have been a fixture generator).",
        P(f'var stagingJWT = "{jwt()}"', "jwt", "jwt-hs256"),
        N('var malformed = "eyJhbGciOiJub25lIn0"  // header only', "jwt", "partial"),
    ])
    c.file("web/src/api/client.ts", [
        "export const api = axios.create({ baseURL: '/api' });",
        P(f"api.defaults.headers.common['Authorization'] = 'Bearer {jwt('RS256')}';", "jwt", "jwt-rs256"),
        N("api.defaults.headers.common['Authorization'] = `Bearer ${localStorage.getItem('token')}`;", "jwt", "env-ref"),
    ])

    # ---------------- private keys ----------------
    c.file("deploy/keys/id_rsa", [P(pem("RSA PRIVATE KEY", rsa_pkcs1()), "private-key", "rsa-pkcs1")])
    c.file("deploy/keys/id_ed25519", [P(openssh_ed25519(), "private-key", "openssh")])
    c.file("deploy/keys/id_ed25519.pub", [
        N("ssh-ed25519 " + base64.b64encode(sshstr("ssh-ed25519") + sshstr(R.randbytes(32))).decode() + " deploy@ci",
          "private-key", "public-key")])
    c.file("certs/server.key", [P(pem("EC PRIVATE KEY", ec_key()), "private-key", "ec")])
    c.file("certs/tls.pem", [
        N(pem("CERTIFICATE", seq(seq(der_int(2), der_int(R.randbytes(16))), R.randbytes(600))), "private-key", "certificate"),
        P(pem("PRIVATE KEY", pkcs8_rsa()), "private-key", "pkcs8"),
    ])
    c.file("certs/public.pem", [N(pem("PUBLIC KEY", seq(seq(RSA_OID, b"\x05\x00"), der(0x03, b"\x00" + R.randbytes(270)))),
                                    "private-key", "public-key")])
    enc = pem("ENCRYPTED PRIVATE KEY", seq(seq(der(0x06, bytes.fromhex("2a864886f70d01050d")), R.randbytes(60)),
                                           der(0x04, R.randbytes(1200))))
    c.file("certs/client.enc.key", [P(enc, "private-key", "encrypted-pkcs8")])
    head, pub, priv = ppk(2)
    c.file("windows/putty/prod.ppk", head + pub + [P(priv, "private-key", "ppk-v2")])
    head, pub, priv = ppk(3)
    c.file("windows/putty/bastion.ppk", head + pub + [P(priv, "private-key", "ppk-v3")])
    c.file("k8s/secrets/tls-secret.yaml", [
        "apiVersion: v1",
        "kind: Secret",
        "metadata: { name: ingress-tls }",
        "type: kubernetes.io/tls",
        "data:",
        N("  tls.crt: " + base64.b64encode("\n".join(pem("CERTIFICATE", R.randbytes(500))).encode()).decode(), "private-key", "certificate"),
        P("  tls.key: " + base64.b64encode("\n".join(pem("RSA PRIVATE KEY", rsa_pkcs1())).encode()).decode(), "private-key", "base64-pem"),
    ])
    c.file("lib/crypto/signer.java", [
        "package com.acme.crypto;",
        "public final class Signer {",
        '    private static final String KEY = String.join("\\n",',
        P(['        "' + ln + '",' for ln in pem("PRIVATE KEY", pkcs8_rsa())], "private-key", "pkcs8-in-code"),
        '        "");',
        N('    private static final String BEGIN = "-----BEGIN PRIVATE KEY-----";', "private-key", "pem-marker-only"),
        "}",
    ])

    # ---------------- database URLs ----------------
    c.file("docker-compose.yml", [
        "services:",
        "  api:",
        "    build: .",
        "    environment:",
        P(f"      DATABASE_URL: postgresql://api:{rs(16)}@postgres:5432/api", "db-url", "postgres-url"),
        P(f"      MONGO_URL: mongodb+srv://svc_api:{rs(20)}@cluster0.ab1cd.mongodb.net/prod?retryWrites=true", "db-url", "mongodb-url"),
        N("      AMQP_URL: amqp://guest:guest@rabbitmq:5672/", "db-url", "default-credentials"),
        N("      CACHE_URL: redis://redis:6379/0", "db-url", "no-password"),
        N("      DB_URL_TEMPLATE: postgres://{user}:{password}@{host}:{port}/{db}", "db-url", "url-template"),
        "  postgres:",
        "    image: postgres:16.3-alpine",
        "    environment:",
        N("      POSTGRES_PASSWORD_FILE: /run/secrets/pg_password", "config-password", "path"),
        N("      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:-changeme}", "config-password", "env-ref"),
    ])
    c.file("scripts/backup.py", [
        "import subprocess",
        "",
        P(f'DSN = "mysql://backup:{rs(14)}@db-primary.acme.internal:3306/shop"', "db-url", "mysql-url"),
        N('EXAMPLE_DSN = "mysql://user:password@localhost:3306/dbname"', "db-url", "placeholder"),
        N('DSN_DOC = "postgres://USER:PASSWORD@HOST/DB"', "db-url", "placeholder"),
        P(f'AMQP = "amqps://worker:{rs(24)}@b-1234.mq.eu-west-1.amazonaws.com:5671"', "db-url", "amqp-url"),
    ])

    # ---------------- credential files ----------------
    c.file("home/deploy/.netrc", [
        P(f"machine api.heroku.com login ops@acme.io password {rs(8, HEX)}-{rs(4, HEX)}-{rs(4, HEX)}-{rs(4, HEX)}-{rs(12, HEX)}", "credential-file", "netrc"),
        "machine git.acme.io",
        "  login deploy",
        P(f"  password {rs(20)}", "credential-file", "netrc"),
        N("default login anonymous password user@example.com", "credential-file", "anonymous"),
    ])
    c.file("home/deploy/_netrc", [P(f"machine ftp.acme.io login mirror password {rs(10)}", "credential-file", "netrc")])
    c.file("home/deploy/.pgpass", [
        P(f"db-primary.acme.internal:5432:orders:orders_app:{rs(18)}", "credential-file", "pgpass"),
        P(f"*:*:*:replicator:{rs(24)}", "credential-file", "pgpass"),
        N("# hostname:port:database:username:password", "credential-file", "comment"),
    ])
    c.file("home/deploy/.git-credentials", [
        P(f"https://deploy:{crc_token('ghp_')}@github.com", "credential-file", "git-credentials"),
        P(f"https://oauth2:glpat-{rs(20, URLSAFE)}@gitlab.acme.io", "credential-file", "git-credentials"),
        P(f"https://jenkins:{rs(16)}@bitbucket.org", "credential-file", "git-credentials"),
    ])
    c.file("home/deploy/.my.cnf", [
        "[client]",
        "user=backup",
        P(f"password={rs(16)}", "credential-file", "my-cnf"),
        "host=db-primary.acme.internal",
        N("socket=/var/run/mysqld/mysqld.sock", "credential-file", "path"),
    ])
    auth = base64.b64encode(f"acmebot:{rs(24)}".encode()).decode()
    c.file("home/deploy/.docker/config.json", [
        "{",
        '  "auths": {',
        '    "https://index.docker.io/v1/": {',
        P(f'      "auth": "{auth}"', "credential-file", "docker-auth"),
        "    },",
        '    "ghcr.io": {',
        P(f'      "auth": "{base64.b64encode(("acme:" + crc_token("ghp_")).encode()).decode()}"', "credential-file", "docker-auth"),
        "    },",
        N('    "123456789012.dkr.ecr.eu-west-1.amazonaws.com": {}', "credential-file", "empty"),
        "  },",
        N('  "credsStore": "desktop",', "credential-file", "config-name"),
        N('  "credHelpers": { "gcr.io": "gcloud" }', "credential-file", "config-name"),
        "}",
    ])
    c.file("home/deploy/.dockercfg", [
        P(f'{{"registry.acme.io": {{"auth": "{base64.b64encode(("ci:" + rs(18)).encode()).decode()}", "email": "ci@acme.io"}}}}',
          "credential-file", "dockercfg")])
    c.file("home/deploy/.kube/config", [
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        "- cluster:",
        N("    certificate-authority-data: " + base64.b64encode("\n".join(pem("CERTIFICATE", R.randbytes(400))).encode()).decode(),
          "credential-file", "certificate"),
        "    server: https://10.0.0.1:6443",
        "  name: prod",
        "users:",
        "- name: admin",
        "  user:",
        N("    client-certificate-data: " + base64.b64encode("\n".join(pem("CERTIFICATE", R.randbytes(400))).encode()).decode(),
          "credential-file", "certificate"),
        P("    client-key-data: " + base64.b64encode("\n".join(pem("RSA PRIVATE KEY", rsa_pkcs1())).encode()).decode(),
          "credential-file", "kubeconfig-client-key"),
        "- name: ci",
        "  user:",
        P(f"    token: {jwt('RS256', {'iss': 'kubernetes/serviceaccount', 'sub': 'system:serviceaccount:ci:deployer'})}",
          "credential-file", "kubeconfig-token"),
        "- name: ops",
        "  user:",
        "    exec:",
        "      apiVersion: client.authentication.k8s.io/v1beta1",
        N("      command: aws-iam-authenticator", "credential-file", "identifier"),
    ])
    c.file("sftp/sftp-config.json", [
        "{",
        '    "type": "sftp",',
        '    "host": "ftp.acme.io",',
        '    "user": "webdeploy",',
        P(f'    "password": "{rs(14)}",', "credential-file", "sublime-sftp"),
        N('    "ssh_key_file": "~/.ssh/id_rsa",', "credential-file", "path"),
        '    "remote_path": "/var/www/acme/",',
        "}",
    ])
    c.file("site/.vscode/sftp.json", [
        "{",
        '  "name": "production",',
        '  "host": "203.0.113.10",',
        '  "protocol": "sftp",',
        '  "username": "www",',
        P(f'  "password": "{rs(12)}",', "credential-file", "vscode-sftp"),
        N('  "privateKeyPath": "/home/dev/.ssh/deploy_key",', "credential-file", "path"),
        '  "remotePath": "/srv/site"',
        "}",
    ])
    c.file("site/.ftpconfig", [
        "{",
        '    "protocol": "ftp",',
        '    "host": "ftp.acme.io",',
        '    "user": "site",',
        P(f'    "pass": "{rs(12)}",', "credential-file", "atom-ftpconfig"),
        '    "promptForPass": false',
        "}",
    ])
    c.file("appdata/FileZilla/sitemanager.xml", [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<FileZilla3 version="3.66.5" platform="windows">',
        "  <Servers>",
        "    <Server>",
        "      <Host>ftp.acme.io</Host>",
        "      <Port>21</Port>",
        "      <User>mirror</User>",
        P(f'      <Pass encoding="base64">{base64.b64encode(rs(14).encode()).decode()}</Pass>', "credential-file", "filezilla"),
        "      <Name>acme mirror</Name>",
        "    </Server>",
        "  </Servers>",
        "</FileZilla3>",
    ])
    c.file("appdata/WinSCP.ini", [
        "[Sessions\\deploy@bastion.acme.io]",
        "HostName=bastion.acme.io",
        "UserName=deploy",
        P(f"Password={rs(70, 'A' + 'BCDEF' + string.digits)}", "credential-file", "winscp"),
        N("PublicKeyFile=C:%5CUsers%5Cops%5C.ssh%5Cbastion.ppk", "credential-file", "path"),
    ])
    c.file("project/.idea/webServers.xml", [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<project version="4">',
        '  <component name="WebServers">',
        '    <option name="servers">',
        f'      <webServer id="{uuid()}" name="staging">',
        P(f'        <fileTransfer rootFolder="/var/www" accessType="SFTP" host="staging.acme.io" port="22" username="deploy" password="{rs(24, "0123456789abcdef")}" />',
          "credential-file", "jetbrains-webservers"),
        "      </webServer>",
        "    </option>",
        "  </component>",
        "</project>",
    ])
    enc_user = base64.b64encode(b"\x30\x3a\x04\x10" + b"\xf8" + b"\x00" * 15 + R.randbytes(40)).decode()
    enc_pass = base64.b64encode(b"\x30\x4a\x04\x10" + b"\xf8" + b"\x00" * 15 + R.randbytes(56)).decode()
    c.file("profile/logins.json", [P(
        '{"nextId":2,"logins":[{"id":1,"hostname":"https://intranet.acme.io","httpRealm":null,'
        '"formSubmitURL":"https://intranet.acme.io","usernameField":"user","passwordField":"pass",'
        f'"encryptedUsername":"{enc_user}","encryptedPassword":"{enc_pass}","guid":"{{{uuid()}}}","encType":1,'
        '"timeCreated":1700000000000,"timeLastUsed":1700000000000,"timePasswordChanged":1700000000000,"timesUsed":3}],'
        '"potentiallyVulnerablePasswords":[],"dismissedBreachAlertsByLoginGUID":{},"version":3}',
        "credential-file", "firefox-logins")])

    # ---------------- password hashes ----------------
    def crypt64(n):
        return rs(n, "./" + ALNUM)
    c.file("etc/apache2/.htpasswd", [
        P(f"admin:$apr1${crypt64(8)}${crypt64(22)}", "password-hash", "htpasswd-apr1"),
        P(f"deploy:$2y$10${crypt64(53)}", "password-hash", "htpasswd-bcrypt"),
        P(f"legacy:{{SHA}}{base64.b64encode(R.randbytes(20)).decode()}", "password-hash", "htpasswd-sha1"),
    ])
    c.file("backup/etc/shadow", [
        P(f"root:$6${crypt64(16)}${crypt64(86)}:19700:0:99999:7:::", "password-hash", "shadow-sha512"),
        N("daemon:*:19700:0:99999:7:::", "password-hash", "locked"),
        N("nobody:!:19700:0:99999:7:::", "password-hash", "locked"),
        P(f"ops:$y$j9T${crypt64(22)}${crypt64(43)}:19800:0:99999:7:::", "password-hash", "shadow-yescrypt"),
        N("sshd:!*:19700::::::", "password-hash", "locked"),
    ])
    c.file("db/dump-2024-05-01.sql", [
        "-- MySQL dump 10.13  Distrib 8.0.36",
        "DROP TABLE IF EXISTS `users`;",
        "CREATE TABLE `users` (`id` int NOT NULL, `email` varchar(255), `password` varchar(255), PRIMARY KEY (`id`));",
        "LOCK TABLES `users` WRITE;",
        P(f"INSERT INTO `users` VALUES (1,'admin@acme.io','$2y$10${crypt64(53)}'),(2,'ops@acme.io','$2y$10${crypt64(53)}');",
          "password-hash", "sql-bcrypt"),
        P(f"INSERT INTO `wp_users` VALUES (1,'admin','$P${crypt64(31)}','admin','admin@acme.io');", "password-hash", "sql-phpass"),
        N(f"INSERT INTO `files` VALUES (7,'report.pdf','{rs(64, HEX)}','2024-04-30 10:00:00');", "password-hash", "content-hash"),
        N(f"INSERT INTO `sessions` VALUES ('{uuid()}',42,'2024-05-01 09:00:00');", "password-hash", "uuid"),
        "UNLOCK TABLES;",
    ])
    c.file("db/seed_pg.sql", [
        "COPY public.accounts (id, username, password_hash) FROM stdin;",
        P(f"1\tadmin\tpbkdf2_sha256$600000${crypt64(22)}${base64.b64encode(R.randbytes(32)).decode()}", "password-hash", "sql-django-pbkdf2"),
        "\\.",
        N("ALTER ROLE app_user WITH LOGIN PASSWORD :'app_password';", "config-password", "env-ref"),
        P(f"CREATE USER reporting WITH PASSWORD '{rs(16)}';", "config-password", "sql-create-user"),
    ])

    # ---------------- framework secrets ----------------
    c.file("rails/config/master.key", [P(rs(32, HEX), "framework", "rails-master-key")])
    c.file("rails/config/secrets.yml", [
        "development:",
        N("  secret_key_base: <%= ENV['SECRET_KEY_BASE'] %>", "framework", "env-ref"),
        "production:",
        P(f"  secret_key_base: {rs(128, HEX)}", "framework", "rails-secret-key-base"),
    ])
    c.file("rails/config/initializers/session.rb", [
        N('Rails.application.config.session_store :cookie_store, key: "_acme_session"', "framework", "identifier"),
        N('SECRET_KEY_BASE_SETTING = "action_dispatch.secret_key_base"', "framework", "config-name"),
    ])
    c.file("django/acme/settings.py", [
        "from pathlib import Path",
        "BASE_DIR = Path(__file__).resolve().parent.parent",
        P(f"SECRET_KEY = 'django-insecure-{rs(50, string.ascii_lowercase + string.digits + '!@#%^&*(-_=+)')}'", "framework", "django-secret-key"),
        "DEBUG = False",
        "DATABASES = {",
        "    'default': {",
        "        'ENGINE': 'django.db.backends.postgresql',",
        "        'NAME': 'acme',",
        "        'USER': 'acme',",
        P(f"        'PASSWORD': '{rs(20)}',", "config-password", "django-db-password"),
        "        'HOST': 'db.acme.internal',",
        "    }",
        "}",
        N("AUTH_PASSWORD_VALIDATORS = [{'NAME': 'django.contrib.auth.password_validation.MinimumLengthValidator'}]", "framework", "identifier"),
        N("PASSWORD_HASHERS = ['django.contrib.auth.hashers.Argon2PasswordHasher']", "framework", "identifier"),
    ])
    c.file("django/acme/settings_prod.py", [
        "import os",
        N("SECRET_KEY = os.environ['DJANGO_SECRET_KEY']", "framework", "env-ref"),
        N("SESSION_COOKIE_NAME = 'acme_sessionid'", "framework", "identifier"),
    ])
    c.file("flask_app/config.py", [
        "class Config:",
        P(f"    SECRET_KEY = '{secrets_hex(24)}'", "framework", "flask-secret-key"),
        N("    SQLALCHEMY_DATABASE_URI = 'sqlite:///app.db'", "db-url", "no-password"),
        N("    SECRET_KEY_FALLBACKS = []", "framework", "empty"),
    ])
    c.file("laravel/.env", [
        "APP_NAME=Acme",
        "APP_ENV=production",
        P(f"APP_KEY=base64:{base64.b64encode(R.randbytes(32)).decode()}", "framework", "laravel-app-key"),
        "APP_DEBUG=false",
        "DB_CONNECTION=mysql",
        "DB_HOST=127.0.0.1",
        "DB_USERNAME=acme",
        P(f"DB_PASSWORD={rs(16)}", "config-password", "laravel-db-password"),
        N("MAIL_PASSWORD=null", "config-password", "placeholder"),
        P(f"PUSHER_APP_SECRET={rs(20, HEX)}", "saas", "pusher-secret"),
        N("REDIS_PASSWORD=null", "config-password", "placeholder"),
    ])
    c.file("laravel/.env.example", [
        N("APP_KEY=", "framework", "empty"),
        N("DB_PASSWORD=secret", "config-password", "placeholder"),
        N("AWS_SECRET_ACCESS_KEY=", "cloud", "empty"),
    ])
    salt = string.ascii_letters + string.digits + "!@#$%^&*()-_ []{}<>~+=,.;:/?|"
    wp = ["<?php", "define( 'DB_NAME', 'wordpress' );", "define( 'DB_USER', 'wp' );",
          P(f"define( 'DB_PASSWORD', '{rs(16)}' );", "config-password", "wordpress-db-password"),
          "define( 'DB_HOST', 'localhost' );"]
    for name in ["AUTH_KEY", "SECURE_AUTH_KEY", "LOGGED_IN_KEY", "NONCE_KEY", "AUTH_SALT"]:
        val = rs(64, salt).replace("'", "")
        wp.append(P(f"define( '{name}', '{val}' );", "framework", "wordpress-salt"))
    wp.append(N("define( 'NONCE_SALT',       'put your unique phrase here' );", "framework", "placeholder"))
    wp.append("$table_prefix = 'wp_';")
    c.file("wordpress/wp-config.php", wp)

    # ---------------- config passwords (generic positions) ----------------
    c.file("infra/terraform/prod.tfvars", [
        'region      = "eu-west-1"',
        P(f'db_password = "{rs(20)}"', "config-password", "tfvars-password"),
        P(f'api_token   = "{rs(40, URLSAFE)}"', "generic", "tfvars-token"),
        N('kms_key_id  = "arn:aws:kms:eu-west-1:123456789012:key/' + uuid() + '"', "cloud", "arn"),
    ])
    c.file("infra/terraform/terraform.tfstate", [
        "{",
        '  "version": 4,',
        '  "terraform_version": "1.8.5",',
        N(f'  "lineage": "{uuid()}",', "version-hash", "uuid"),
        '  "resources": [',
        '    {"mode": "managed", "type": "aws_db_instance", "name": "main", "instances": [{"attributes": {',
        '      "username": "acme_admin",',
        P(f'      "password": "{rs(24)}",', "config-password", "tfstate-password"),
        '      "engine_version": "16.3"',
        "    }}]}",
        "  ]",
        "}",
    ])
    c.file("charts/api/values-prod.yaml", [
        "replicaCount: 3",
        "image:",
        "  repository: ghcr.io/acme/api",
        N("  tag: sha-9fceb02d0ae598e95dc970b74767f19372d61af8", "version-hash", "git-sha"),
        "postgresql:",
        "  auth:",
        "    username: api",
        P(f"    password: {rs(18)}", "config-password", "helm-password"),
        N("    existingSecret: api-postgresql", "config-password", "config-name"),
        N("    secretKeys: { adminPasswordKey: postgres-password, userPasswordKey: password }", "config-password", "yaml-key"),
        "redis:",
        P(f"  password: \"{rs(22)}\"", "config-password", "helm-password"),
    ])
    c.file("config/application.yml", [
        "spring:",
        "  datasource:",
        "    url: jdbc:mysql://db:3306/shop",
        "    username: shop",
        P(f"    password: '{rs(14)}'", "config-password", "spring-yaml-password"),
        "  security:",
        "    oauth2:",
        "      client:",
        "        registration:",
        "          google:",
        N("            client-id: 1234567890-abc.apps.googleusercontent.com", "cloud", "identifier"),
        P(f"            client-secret: GOCSPX-{rs(28, URLSAFE)}", "cloud", "google-oauth-client-secret"),
        N("    password-reset-path: /account/password/reset", "config-password", "path"),
    ])
    c.file("config/settings.toml", [
        "[server]",
        'bind = "0.0.0.0:8443"',
        "[database]",
        P(f'password = "{rs(18)}"', "config-password", "toml-password"),
        N('password_env = "DATABASE_PASSWORD"', "config-password", "config-name"),
        "[auth]",
        N('token_ttl = "15m"', "generic", "plain-setting"),
        N('secret_store = "vault://kv/acme/api"', "generic", "url-template"),
    ])
    c.file("Dockerfile", [
        "FROM python:3.12-slim@sha256:" + rs(64, HEX),
        N("ARG PIP_INDEX_URL=https://pypi.org/simple", "generic", "url"),
        P(f"ENV API_SECRET={rs(32, URLSAFE)}", "generic", "dockerfile-env-secret"),
        N("ENV SECRET_FILE=/run/secrets/api_secret", "generic", "path"),
        N("RUN --mount=type=secret,id=npmrc,target=/root/.npmrc npm ci", "generic", "path"),
        "COPY . /app",
    ])
    c.file("build/Makefile", [
        ".PHONY: credentials secret-scan",
        N("credentials: scripts/credentials/fetch.sh", "generic", "build-target"),
        "\t./scripts/credentials/fetch.sh > $@",
        N("CREDENTIALS = ~/.config/acme/credentials.json", "generic", "path"),
        N("SECRET_KEY_FILE := $(HOME)/.acme/secret.key", "generic", "path"),
        N("secret-scan: ; portcullis scan dir .", "generic", "build-target"),
        N("TOKEN_AUDIENCE ?= api.acme.io", "generic", "plain-setting"),
    ])

    # ---------------- generic secrets in code ----------------
    c.file("src/integrations/weather.py", [
        "import requests",
        P(f'API_KEY = "{rs(32, HEX)}"', "generic", "api-key-hex"),
        N('API_KEY_HEADER = "X-Api-Key"', "generic", "identifier"),
        N('api_key = settings.get("weather.api_key")', "generic", "config-name"),
        N('API_URL = "https://api.weather.example/v2/{lat},{lon}?key={api_key}"', "generic", "url-template"),
        "",
        "def fetch(lat, lon):",
        '    return requests.get(API_URL.format(lat=lat, lon=lon, api_key=API_KEY), timeout=5)',
    ])
    c.file("src/integrations/Client.java", [
        "package com.acme.integrations;",
        "public class Client {",
        P(f'    private static final String CLIENT_SECRET = "{rs(40)}";', "generic", "client-secret"),
        N('    private static final String CLIENT_SECRET_PROPERTY = "acme.oauth.client-secret";', "generic", "config-name"),
        N('    private static final String PASSWORD_FIELD = "passwordConfirmation";', "generic", "identifier"),
        N('    private String password = System.getenv("ACME_PASSWORD");', "generic", "env-ref"),
        N('    private static final String SECRET_PATH = "/etc/acme/secrets/client.json";', "generic", "path"),
        "}",
    ])
    c.file("src/lib/auth.ts", [
        P(f"const SIGNING_SECRET = '{rs(48, URLSAFE)}';", "generic", "signing-secret"),
        N("const passwordRegex = /^(?=.*[A-Z])(?=.*\\d).{12,}$/;", "generic", "test-data"),
        N("export const TOKEN_STORAGE_KEY = 'acme.auth.accessToken';", "generic", "config-name"),
        N("const tokenType: 'access_token' | 'refresh_token' = 'access_token';", "generic", "identifier"),
        N("const secretName = `projects/${project}/secrets/${name}/versions/latest`;", "generic", "url-template"),
    ])
    c.file("src/worker/main.go", [
        "package main",
        P(f'var webhookSecret = []byte("{rs(32)}")', "generic", "webhook-secret"),
        N('var passwordFlag = flag.String("password", "", "database password (or set PGPASSWORD)")', "generic", "sentence"),
        N('const secretKeyEnv = "WORKER_SECRET_KEY"', "generic", "config-name"),
        N('var checksum = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" // sha256 of empty input', "version-hash", "hash"),
    ])
    c.file("lib/acme/client.rb", [
        "module Acme",
        "  class Client",
        P(f'    API_TOKEN = "{rs(40, HEX)}".freeze', "generic", "api-token-hex"),
        N('    TOKEN_PARAM = "access_token".freeze', "generic", "identifier"),
        N('    def password = ENV.fetch("ACME_PASSWORD") { raise KeyError, "ACME_PASSWORD missing" }', "generic", "env-ref"),
        N('    SECRET_FILE = File.join(Dir.home, ".acme", "secret")', "generic", "path"),
        "  end",
        "end",
    ])
    c.file("src/Acme.Web/Startup.cs", [
        "public class Startup {",
        P(f'    private const string JwtSigningKey = "{rs(64, B64)}";', "generic", "jwt-signing-key"),
        N('    private const string PasswordPolicy = "RequireDigit;RequireUppercase;MinLength=12";', "generic", "plain-setting"),
        N('    var key = Configuration["Jwt:Key"];', "generic", "config-name"),
        "}",
    ])
    c.file("scripts/provision.sh", [
        "#!/bin/bash",
        P(f"mysql -u root -p'{rs(14)}' -e 'CREATE DATABASE app'", "generic", "cli-password"),
        P(f"curl -u admin:{rs(16)} https://jenkins.acme.io/job/deploy/build", "generic", "curl-basic-auth"),
        N('read -rsp "Password: " PASSWORD', "generic", "sentence"),
        N('sshpass -p "$SSH_PASSWORD" ssh deploy@bastion', "generic", "env-ref"),
        N('echo "export PASSWORD=<your-password>" >> ~/.bashrc', "generic", "placeholder"),
        N('PASSWORD=xxxxxxxx ./configure --with-ssl', "generic", "placeholder"),
    ])
    c.file("docs/setup.md", [
        "# Setup",
        "",
        N("Set `api_key: <your-key>` in `config.yml` and restart the service.", "generic", "placeholder"),
        N("The secret key is rotated every 90 days; the password policy requires 12 characters.", "generic", "sentence"),
        N("Example: `export ACME_TOKEN=changeme` for local development only.", "generic", "placeholder"),
        N("Tokens look like `acme_live_` followed by 32 characters.", "generic", "sentence"),
    ])
    c.file("tests/data/vectors.json", [
        "{",
        N(f'  "sha1": "{rs(40, HEX)}",', "version-hash", "test-data"),
        N(f'  "nonce": "{rs(24, HEX)}",', "generic", "test-data"),
        N('  "image": "' + base64.b64encode(PNG_HEAD + bytes(40)).decode() + '",', "generic", "base64-non-secret"),
        N(f'  "greeting": "{base64.b64encode(b"hello world, this is not a secret").decode()}",', "generic", "base64-non-secret"),
        N(f'  "request_id": "{uuid()}",', "generic", "uuid"),
        N('  "password_hint": "the name of your first pet",', "generic", "sentence"),
        "}",
    ])
    c.file("src/i18n/en.yml", [
        "en:",
        "  auth:",
        N("    password: Password", "generic", "yaml-key"),
        N("    secret_key: Secret key", "generic", "yaml-key"),
        N("    token_expired: Your session token has expired, please sign in again.", "generic", "sentence"),
    ])
    c.file("app/models/user_schema.json", [
        "{",
        N('  "password": {"type": "string", "minLength": 12, "writeOnly": true},', "generic", "json-key"),
        N('  "api_key": {"$ref": "#/definitions/ApiKey"},', "generic", "json-key"),
        N('  "key": "fsync/writeout-only",', "generic", "json-key"),
        "}",
    ])
    c.file("config/logging.ini", [
        "[loggers]",
        "keys=root,secret_audit",
        N("Key: section.sub=section.val1", "generic", "test-data"),
        N("password_file = %(here)s/secrets/password.txt", "generic", "path"),
    ])
    c.file("CHANGELOG.md", [
        "## 4.2.0",
        N("- Bump token library to v2.14.0-rc.1+build.20240501", "version-hash", "version"),
        N("- Fix secret rotation (commit 9fceb02d0ae598e95dc970b74767f19372d61af8)", "version-hash", "git-sha"),
    ])


def uuid():
    h = rs(32, HEX)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


def secrets_hex(n):
    return R.randbytes(n).hex()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=20261206)
    a = ap.parse_args()
    R.seed(a.seed)
    c = Corpus(a.out)
    build(c)
    with open(os.path.join(a.out, "labels.json"), "w") as f:
        json.dump(c.labels, f, indent=1)
    pos = sum(x["kind"] == "pos" for x in c.labels)
    print(f"held-out corpus: {len({x['file'] for x in c.labels})} files, {pos} secrets, "
          f"{len(c.labels) - pos} hard negatives", file=sys.stderr)


if __name__ == "__main__":
    main()
