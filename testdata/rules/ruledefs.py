"""Rule definitions for portcullis' default ruleset (see generate.py).

Each `tok(...)` is a rule keyed on a distinctive literal token prefix; each `ctx(...)` is a rule
for a token without such a prefix, which therefore needs the provider's name next to it
(`PROVIDER..._KEY = value`). Regexes use Go RE2 syntax (no lookaround, no backreferences), and
every match is bounded and contains one of the rule's keywords.
"""

SECTIONS = {
    "cloud": "Cloud and infrastructure providers",
    "vcs": "Source hosting and CI/CD",
    "payment": "Payments, commerce and finance",
    "chat": "Chat, e-mail, SMS and webhooks",
    "ai": "AI and machine-learning APIs",
    "registry": "Package registries and artifact stores",
    "saas": "SaaS, developer tools and observability",
    "social": "Social networks and media",
    "database": "Database and service URIs with credentials",
    "key": "Private keys and key files",
    "credfile": "Credential files and configuration formats",
    "generic": "Tokens without a vendor format: JWTs, HTTP credentials, generic assignments",
}

RULES = []
_section = [None]


def section(name):
    assert name in SECTIONS
    _section[0] = name


# Boundary after a token whose alphabet includes '-' (`\b` fails after a trailing '-').
END = r"(?:[^0-9A-Za-z_-]|$)"
# Boundary after a value in an assignment.
VEND = r"""(?:[\s'"\x60;,<)\]}]|\\[nrt]|$)"""
# Between a (provider) name and its value: rest of the identifier, quotes, an assignment operator.
SEP = r"""[\w.-]{0,25}?[ \t'"\x60\]]{0,3}(?:=|:=|=>|\?=|:|,|>)[ \t'"\x60]{0,5}"""
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"

PLACEHOLDER_STOPWORDS = ["example", "xxxxxx", "changeme", "placeholder", "dummy", "redacted"]

# Values that are code, not secrets: identifiers and paths.
# One word of a snake-case identifier: letters with at most two runs of up to 5 digits
# (`nl80211`, `utf8mb4`, `x86`), or a short number. A random segment (`b316c6aea5…`, as in
# `rpl_live_b316c6aea5…`) alternates letters and digits more often and is not a word.
_SNAKE_LOWER = r"(?:[a-z]+[0-9]{0,5}(?:[a-z]+[0-9]{0,5})?|[0-9]{1,6})"
_SNAKE_UPPER = r"(?:[A-Z]+[0-9]{0,5}(?:[A-Z]+[0-9]{0,5})?|[0-9]{1,6})"
_SNAKE_MIXED = r"(?:[A-Za-z]+[0-9]{0,5}(?:[A-Za-z]+[0-9]{0,5})?|[0-9]{1,6})"
IDENTIFIER_REGEXES = [
    r"^_*[a-z]" + _SNAKE_LOWER + r"?(?:_" + _SNAKE_LOWER + r")+_*$",  # snake_case
    r"^_*[A-Z]" + _SNAKE_UPPER + r"?(?:_" + _SNAKE_UPPER + r")+_*$",  # SCREAMING_SNAKE_CASE
    r"^[A-Za-z]" + _SNAKE_MIXED + r"?(?:_" + _SNAKE_MIXED + r"){2,}$",  # Mixed_Snake_Case with 3+ words
    r"^(?:[A-Z]{0,4}(?:[a-z]{2,}|[0-9]{1,6}))+[A-Z]{0,4}$",  # CamelCase words (PrivatePkcs8KeyDer)
    r"^(?:[a-z_][a-z0-9_]*|(?:[A-Z]{0,4}(?:[a-z]{2,}|[0-9]{1,6}))+[A-Z]{0,4})(?:\.(?:[a-z_][a-z0-9_]*|(?:[A-Z]{0,4}(?:[a-z]{2,}|[0-9]{1,6}))+[A-Z]{0,4}))+$",  # dotted.path.to.member
    r"::|->",  # Rust/C++ paths, pointer members
    r"^\.{0,2}/|\.(?:html?|md|rs|js|ts|py|go|java|json|ya?ml|toml|txt|png|svg)$",  # paths and files
]
_WORD = r"(?:(?:(?:[A-Z][a-z]+|[a-z]{2,})[0-9]{0,3})+|[A-Z]+[0-9]{0,3}|[0-9]{1,6})"
# Values that are code or configuration, not secrets, judged by their shape alone: word
# sequences joined by punctuation (`section.sub=section.val1`, `fsync/writeout-only`,
# `contrib/credential/osxkeychain`, `action_dispatch.secret_key_base`), home- and
# relative paths, version strings, file names.
CODE_VALUE_REGEXES = [
    r"^[~./]*" + _WORD + r"(?:[^A-Za-z0-9]+" + _WORD + r")+[^A-Za-z0-9]*$",
    r"^(?:~|\.{1,2})?/",
    r"^v?[0-9]+(?:\.[0-9]+){1,3}(?:[-+][0-9A-Za-z.-]+)?$",
    r"(?i:\.(?:c|h|cc|cpp|hpp|rb|php|sh|bash|ps1|cfg|conf|ini|xml|lock|gz|tgz|zip|tar|jar|so|dll|exe|log|csv|sql|css|scss|vue|tsx|jsx|kt|swift|erb|tmpl|tpl|pem|crt|cer|der|csr|pk8|p8)$)",
    r"^:",
]
# Hosts reserved for documentation and tests (RFC 2606 / RFC 6761).
EXAMPLE_HOSTS = r"@(?:[A-Za-z0-9-]+\.)*(?:example\.(?:com|org|net)|[A-Za-z0-9-]+\.(?:test|example|invalid))(?:[:/?#]|$)"


def add(
    id,
    description,
    regex=None,
    keywords=(),
    tp=(),
    fp=(),
    entropy=None,
    group=None,
    tags=None,
    allowlists=(),
    path=None,
    example_path=None,
    tp_paths=(),
    fp_paths=(),
    confidence=None,
    verify=None,
    tp_low=(),
):
    if regex is not None:
        regex = regex.replace('\\"', '"')
    RULES.append(
        {
            "id": id,
            "description": description,
            "regex": regex,
            "keywords": [k.lower() for k in keywords],
            "tp": list(tp),
            "fp": list(fp),
            "entropy": entropy,
            "secretGroup": group,
            "tags": list(tags) if tags is not None else [_section[0]],
            "allowlists": list(allowlists),
            "path": path,
            "example_path": example_path,
            "tp_paths": list(tp_paths),
            "fp_paths": list(fp_paths),
            "section": _section[0],
            "confidence": confidence,
            "verify": verify,
            "tp_low": list(tp_low),
        }
    )


def tok(id, description, regex, keywords, tp, fp, entropy=3, **kw):
    """A token with a distinctive literal prefix."""
    add(id, description, regex, keywords, tp, fp, entropy=entropy, **kw)


def alt(branches):
    """An alternation of literal-led branches, each in its own capture group.

    regex-syntax factors a common prefix out of an alternation (`alibaba|aliyun` becomes
    `ali(?:baba|yun)`), which hides the keywords from the engine's structural keyword analysis
    and makes it verify the rule over the whole fragment instead of a window. Capture groups are
    not factored. Returns the pattern and the number of groups it adds.
    """
    if len(branches) == 1:
        return "(?:" + branches[0] + ")", 0
    return "(?:" + "|".join("(" + b + ")" for b in branches) + ")", len(branches)


def ctx_regex(names, value):
    pat, groups = alt([n.replace(".", r"\.") for n in names])
    # The provider's name starts a word (`SetSystemInformation` does not name Etsy).
    return r"(?i)(?:^|[^A-Za-z])" + pat + SEP + "(" + value + ")" + VEND, groups + 1


def ctx(id, description, names, value, sample, entropy=3.0, tp=None, fp=(), **kw):
    """A token without a literal prefix: the provider's name must precede it."""
    n0 = names[0]
    up = n0.upper().replace(".", "_").replace("-", "_")
    tps = tp or [f'{up}_API_KEY="{sample}"', f"{n0}_secret: {sample}"]
    fps = [
        f'api_key = "{sample}"',  # no provider name: not this rule
        f"{up}_API_KEY=${{{up}_API_KEY}}",  # a variable reference, not a secret
    ] + list(fp)
    regex, group = ctx_regex(names, value)
    kw.setdefault("confidence", "medium")
    add(id, description, regex, names, tps, fps, entropy=entropy, group=group, **kw)


# ==================================================================================================
section("cloud")

tok(
    "aws-access-token",
    "AWS access key ID",
    r"\b((?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b",
    ["a3t", "akia", "asia", "abia", "acca"],
    ['aws_access_key_id = AKIA%B16%', '"AccessKeyId": "ASIA%B16%"'],
    ["aws_access_key_id = AKIAIOSFODNN7EXAMPLE", "AKIA%B15%", "AKIA%B16%Q9"],
)
ctx(
    "aws-secret-access-key",
    "AWS secret access key",
    ["aws"],
    r"[A-Za-z0-9/+]{40}",
    "%b40%",
    entropy=4.0,
    tp=["aws_secret_access_key = %b40%", 'AWS_SECRET_ACCESS_KEY="%b40%"'],
    fp=["aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"],
    allowlists=[{"stopwords": ["example"]}],
)
tok(
    "aws-amazon-bedrock-api-key-long-lived",
    "Amazon Bedrock long-term API key",
    r"\b(ABSKQmVkcm9ja0FQSUtleS[A-Za-z0-9+/]{100,200}={0,2})",
    ["absk"],
    ["AWS_BEARER_TOKEN_BEDROCK=ABSKQmVkcm9ja0FQSUtleS%b120%"],
    ["ABSKQmVkcm9ja0FQSUtleS%b40%", "ABSKSGVsbG8gV29ybGQ%b120%"],
)
tok(
    "aws-amazon-bedrock-api-key-short-lived",
    "Amazon Bedrock short-term API key",
    r"\b(bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t[A-Za-z0-9+/]{100,1000}={0,2})",
    ["bedrock-api-key-"],
    ["token: bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t%b300%"],
    ["bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t%b20%", "bedrock-api-key-%b200%"],
)
tok(
    "gcp-api-key",
    "Google Cloud / Firebase API key",
    r"\b(AIza[0-9A-Za-z_-]{35})" + END,
    ["aiza"],
    ['const firebaseConfig = { apiKey: "AIza%u35%" };', "GOOGLE_API_KEY=AIza%u35%"],
    ["AIza%u30%", 'apiKey: "AIzaSyXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"'],
)
tok(
    "gcp-service-account-key",
    "Google Cloud service account key file (private_key_id)",
    r"""(?i)"private_key_id"\s{0,5}:\s{0,5}"([0-9a-f]{40})\"""",
    ["private_key_id"],
    ['{"type": "service_account", "private_key_id": "%h40%", "client_email": "x@p.iam.gserviceaccount.com"}'],
    ['"private_key_id": "%h20%"', '"private_key_id": "0000000000000000000000000000000000000000"'],
)
tok(
    "gcp-oauth-client-secret",
    "Google OAuth client secret",
    r"\b(GOCSPX-[0-9A-Za-z_-]{28})" + END,
    ["gocspx-"],
    ['"client_secret": "GOCSPX-%u28%"'],
    ["GOCSPX-%u20%", "GOCSPX_%u28%"],
)
tok(
    "gcp-oauth-access-token",
    "Google OAuth access token",
    r"\b(ya29\.[0-9A-Za-z_-]{60,250})" + END,
    ["ya29."],
    ["Authorization: Bearer ya29.a0A%u120%"],
    ["ya29.%u30%", "ya29-%u100%"],
)
tok(
    "gcp-oauth-refresh-token",
    "Google OAuth refresh token",
    r"\b(1//0[0-9A-Za-z_-]{40,120})" + END,
    ["1//0"],
    ['"refresh_token": "1//0%u60%"'],
    ['"refresh_token": "1//0%u20%"', "http://0%u60%"],
)
tok(
    "firebase-cloud-messaging-server-key",
    "Firebase Cloud Messaging legacy server key",
    r"\b(AAAA[0-9A-Za-z_-]{7}:APA91b[0-9A-Za-z_-]{134})" + END,
    ["apa91b"],
    ["fcm_server_key=AAAA%u7%:APA91b%u134%"],
    ["AAAA%u7%:APA91b%u50%", "AAAA%u7%:XPA91b%u134%"],
)
tok(
    "azure-ad-client-secret",
    "Microsoft Entra ID (Azure AD) client secret",
    r"""(?:^|[\\'"\x60\s>=:(,])([0-9A-Za-z_~.]{3}\dQ~[0-9A-Za-z_~.-]{31,34})(?:$|[\\'"\x60\s<),])""",
    ["q~"],
    ['AZURE_CLIENT_SECRET="%X3%8Q~%X34%"', "client_secret: %X3%7Q~%X31%"],
    ['secret="%X3%8Q~%X20%"', 'secret="%X3%8R~%X34%"'],
    group=1,
)
tok(
    "azure-storage-account-key",
    "Azure storage account key in a connection string",
    r"(?i)\b(?:AccountKey|SharedKey)\s{0,3}=\s{0,3}([A-Za-z0-9+/]{86}==)",
    ["accountkey", "sharedkey"],
    [
        "DefaultEndpointsProtocol=https;AccountName=prodstore;AccountKey=%b86%==;EndpointSuffix=core.windows.net"
    ],
    ["AccountKey=%b40%==", "AccountKey=<your-account-key>"],
    entropy=4,
)
tok(
    "azure-shared-access-key",
    "Azure Service Bus / Event Hubs / IoT shared access key",
    r"(?i)\bSharedAccessKey\s{0,3}=\s{0,3}([A-Za-z0-9+/]{43}=)",
    ["sharedaccesskey"],
    [
        "Endpoint=sb://bus.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=%b43%="
    ],
    ["SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=", "SharedAccessKey=%b20%="],
    entropy=4,
)
tok(
    "azure-sas-token",
    "Azure shared access signature (SAS) URL",
    r"(?i)\bsv=20\d{2}-\d{2}-\d{2}&[A-Za-z0-9&=%:._-]{0,300}?\bsig=([A-Za-z0-9%+/]{40,100}={0,2})",
    ["sig="],
    ["https://acct.blob.core.windows.net/c/f.txt?sv=2022-11-02&ss=b&srt=o&sp=r&se=2030-01-01T00:00:00Z&sig=%b43%%3D"],
    ["?sv=2022-11-02&sp=r&sig=<signature>", "sv=2022-11-02&sig=short"],
    entropy=4,
)
tok(
    "azure-devops-pat",
    "Azure DevOps personal access token (84-character format)",
    r"\b([0-9A-Za-z]{52}JQQJ9[9DH][0-9A-Za-z]{18}AZDO[0-9A-Za-z]{4})\b",
    ["jqqj9"],
    ["AZURE_DEVOPS_EXT_PAT=%X52%JQQJ99%X18%AZDO%X4%"],
    ["%X52%JQQJ99%X18%AZDX%X4%", "%X40%JQQJ99%X18%AZDO%X4%"],
)
tok(
    "digitalocean-pat",
    "DigitalOcean personal access token",
    r"\b(dop_v1_[a-f0-9]{64})\b",
    ["dop_v1_"],
    ["DIGITALOCEAN_TOKEN=dop_v1_%h64%"],
    ["dop_v1_%h60%", "dop_v2_%h64%"],
)
tok(
    "digitalocean-access-token",
    "DigitalOcean OAuth access token",
    r"\b(doo_v1_[a-f0-9]{64})\b",
    ["doo_v1_"],
    ["token = doo_v1_%h64%"],
    ["doo_v1_%h63%", "doo_v1_%l64%"],
)
tok(
    "digitalocean-refresh-token",
    "DigitalOcean OAuth refresh token",
    r"(?i)\b(dor_v1_[a-f0-9]{64})\b",
    ["dor_v1_"],
    ["refresh_token: dor_v1_%h64%"],
    ["dor_v1_%h32%", "dor-v1-%h64%"],
)
tok(
    "alibaba-access-key-id",
    "Alibaba Cloud AccessKey ID",
    r"\b(LTAI[A-Za-z0-9]{20})\b",
    ["ltai"],
    ["ALIBABA_CLOUD_ACCESS_KEY_ID=LTAI%X20%"],
    ["LTAI%X12%", "LTAI%X24%"],
)
ctx(
    "alibaba-secret-key",
    "Alibaba Cloud AccessKey secret",
    ["alibaba", "aliyun"],
    r"[A-Za-z0-9]{30}",
    "%X30%",
    entropy=3.5,
)
ctx(
    "ibm-cloud-api-key",
    "IBM Cloud IAM API key",
    ["ibm_cloud", "ibmcloud", "ibm-cloud", "ibm_api", "ibm.api", "ibm-api"],
    r"[A-Za-z0-9_-]{44}",
    "%u44%",
    entropy=4,
)
ctx(
    "oracle-cloud-auth-token",
    "Oracle Cloud Infrastructure auth token or API secret",
    ["oci_auth", "oci-auth", "oci.auth", "oci_api", "oci_secret", "oracle_cloud", "oracle-cloud", "oraclecloud"],
    r"[A-Za-z0-9+/=:;.(){}#_<>\[\]-]{20,64}",
    "%X20%#:(%X4%",
    entropy=3.5,
    tp=["oci_auth_token = %X20%#:(%X4%", 'ORACLE_CLOUD_SECRET="%X30%"'],
)
tok(
    "cloudflare-origin-ca-key",
    "Cloudflare Origin CA key",
    r"\b(v1\.0-[a-f0-9]{24}-[a-f0-9]{146})\b",
    ["v1.0-"],
    ["CF_ORIGIN_CA_KEY=v1.0-%h24%-%h146%"],
    ["v1.0-%h24%-%h100%", "v2.0-%h24%-%h146%"],
)
ctx(
    "cloudflare-api-key",
    "Cloudflare API token",
    ["cloudflare", "cf_api", "cf-api"],
    r"[A-Za-z0-9_-]{40}",
    "%u40%",
    entropy=3.5,
)
ctx(
    "cloudflare-global-api-key",
    "Cloudflare global API key",
    ["cloudflare", "cf_global", "cf_auth"],
    r"[a-f0-9]{37}",
    "%h37%",
    entropy=3.0,
    tp=['CLOUDFLARE_GLOBAL_KEY="%h37%"', "cf_auth_key: %h37%"],
)
ctx(
    "heroku-api-key",
    "Heroku API key (UUID format)",
    ["heroku"],
    UUID,
    "%uuid%",
)
tok(
    "heroku-api-key-v2",
    "Heroku API key",
    r"\b(HRKU-AA[0-9A-Za-z_-]{58})" + END,
    ["hrku-aa"],
    ["HEROKU_API_KEY=HRKU-AA%u58%"],
    ["HRKU-AA%u30%", "HRKU-BB%u58%"],
)
tok(
    "flyio-access-token",
    "Fly.io access token",
    r"\b((fo1_[\w-]{43})|(fm1a_[A-Za-z0-9+/]{100,500}={0,3})|(fm1r_[A-Za-z0-9+/]{100,500}={0,3})|(fm2_[A-Za-z0-9+/]{100,1000}={0,3}))" + END,
    ["fo1_", "fm1a_", "fm1r_", "fm2_"],
    ["FLY_API_TOKEN=fo1_%u43%", 'token = "FlyV1 fm2_%b200%=="'],
    ["fo1_%u20%", "fm2_%b40%"],
)
ctx(
    "vercel-api-token",
    "Vercel access token",
    ["vercel"],
    r"[A-Za-z0-9]{24}",
    "%X24%",
    entropy=3.5,
)
ctx(
    "netlify-access-token",
    "Netlify access token",
    ["netlify"],
    r"[A-Za-z0-9_-]{40,46}",
    "%u43%",
    entropy=3.5,
)
tok(
    "netlify-personal-access-token",
    "Netlify personal access token (nfp_)",
    r"\b(nfp_[A-Za-z0-9]{36})\b",
    ["nfp_"],
    ["NETLIFY_AUTH_TOKEN=nfp_%X36%"],
    ["nfp_%X20%", "nfx_%X36%"],
)
tok(
    "supabase-access-token",
    "Supabase personal access token",
    r"\b(sbp_[a-f0-9]{40})\b",
    ["sbp_"],
    ["SUPABASE_ACCESS_TOKEN=sbp_%h40%"],
    ["sbp_%h30%", "sbp_%U40%"],
)
tok(
    "supabase-secret-key",
    "Supabase secret API key",
    r"\b(sb_secret_[A-Za-z0-9_-]{31,64})" + END,
    ["sb_secret_"],
    ["SUPABASE_SECRET_KEY=sb_secret_%u31%"],
    ["sb_publishable_%u31%", "sb_secret_%u10%"],
)
ctx("linode-api-token", "Linode (Akamai Cloud) API token", ["linode"], r"[a-f0-9]{64}", "%h64%")
ctx("vultr-api-key", "Vultr API key", ["vultr"], r"[A-Z0-9]{36}", "%A36%", entropy=3.5)
ctx("hetzner-cloud-api-token", "Hetzner Cloud API token", ["hetzner", "hcloud"], r"[A-Za-z0-9]{64}", "%X64%", entropy=4)
tok(
    "scaleway-access-key",
    "Scaleway access key ID",
    r"\b(SCW[A-Z0-9]{17})\b",
    ["scw"],
    ["SCW_ACCESS_KEY=SCW%A17%"],
    ["SCW%A10%", "SCW%A20%"],
)
ctx("scaleway-secret-key", "Scaleway secret key", ["scw_secret", "scaleway"], UUID, "%uuid%", tp=["SCW_SECRET_KEY=%uuid%", 'scaleway_secret: "%uuid%"'])
tok(
    "tencent-cloud-secret-id",
    "Tencent Cloud SecretId",
    r"\b(AKID[A-Za-z0-9]{32})\b",
    ["akid"],
    ["TENCENTCLOUD_SECRET_ID=AKID%X32%"],
    ["AKID%X20%", "AKID%X40%"],
)
ctx("tencent-cloud-secret-key", "Tencent Cloud SecretKey", ["tencent", "tencentcloud"], r"[A-Za-z0-9]{32}", "%X32%", entropy=3.5)
tok(
    "openshift-user-token",
    "OpenShift user token",
    r"\b(sha256~[\w-]{43})" + END,
    ["sha256~"],
    ["oc login --token=sha256~%u43% --server=https://api.cluster:6443"],
    ["sha256~%u20%", "sha256:%u43%"],
)
tok(
    "hashicorp-tf-api-token",
    "Terraform Cloud / HCP Terraform API token",
    r"(?i)\b([a-z0-9]{14}\.atlasv1\.[a-z0-9_=-]{60,70})" + END,
    ["atlasv1"],
    ['credentials "app.terraform.io" { token = "%a14%.atlasv1.%a67%" }'],
    ["%a14%.atlasv1.%a20%", "%a14%.atlasv2.%a67%"],
)
ctx(
    "hashicorp-tf-password",
    "Terraform variable holding a password",
    ["administrator_login_password", "admin_password", "db_password"],
    r"[^\s'\"\x60$]{8,64}",
    "%P16%",
    entropy=3.0,
    example_path="main.tf",
    tp=['administrator_login_password = "%P16%"', 'admin_password = "%P20%"'],
    fp=['admin_password = "var.admin_password"'],
    allowlists=[{"regexes": [r"^(?:var|local|module|data)\."], "stopwords": PLACEHOLDER_STOPWORDS}],
    path=r"(?i)\.(?:tf|tfvars|hcl)$",
)
tok(
    "vault-service-token",
    "HashiCorp Vault service token",
    r"\b(hvs\.[\w-]{90,120})" + END,
    ["hvs."],
    ["VAULT_TOKEN=hvs.CAESI%u100%"],
    ["hvs.%u24%", "hvx.%u100%"],
)
tok(
    "vault-batch-token",
    "HashiCorp Vault batch token",
    r"\b(hvb\.[\w-]{138,300})" + END,
    ["hvb."],
    ["VAULT_TOKEN=hvb.AAAAAQ%u150%"],
    ["hvb.%u40%", "hvb_%u150%"],
)
tok(
    "doppler-api-token",
    "Doppler API token",
    r"\b(" + alt([r"dp\.pt\.", r"dp\.st\.", r"dp\.sa\.", r"dp\.ct\.", r"dp\.scim\.", r"dp\.audit\."])[0] + r"[A-Za-z0-9]{40,44})\b",
    ["dp.pt.", "dp.st.", "dp.sa.", "dp.ct.", "dp.scim.", "dp.audit."],
    ["DOPPLER_TOKEN=dp.st.%X43%", "dp.pt.%X43%"],
    ["dp.pt.%X20%", "dp.xx.%X43%"],
)
tok(
    "pulumi-api-token",
    "Pulumi access token",
    r"\b(pul-[a-f0-9]{40})\b",
    ["pul-"],
    ["PULUMI_ACCESS_TOKEN=pul-%h40%"],
    ["pul-%h30%", "pul_%h40%"],
)
tok(
    "infracost-api-token",
    "Infracost API token",
    r"\b(ico-[A-Za-z0-9]{32})\b",
    ["ico-"],
    ["INFRACOST_API_KEY=ico-%X32%"],
    ["ico-%X16%", "ico-%X40%"],
)
tok(
    "databricks-api-token",
    "Databricks personal access token",
    r"\b(dapi[a-f0-9]{32}(?:-\d)?)\b",
    ["dapi"],
    ["DATABRICKS_TOKEN=dapi%h32%", "token: dapi%h32%-2"],
    ["dapi%h20%", "dapi%U32%"],
)
ctx(
    "confluent-access-token",
    "Confluent Cloud API key",
    ["confluent"],
    r"[A-Z0-9]{16}",
    "%A16%",
    entropy=3.0,
    tp=["CONFLUENT_CLOUD_API_KEY=%A16%", "confluent_key: %A16%"],
)
ctx(
    "confluent-secret-key",
    "Confluent Cloud API secret",
    ["confluent"],
    r"[A-Za-z0-9+/]{64}",
    "%b64%",
    entropy=4.0,
    tp=["CONFLUENT_CLOUD_API_SECRET=%b64%"],
)
tok(
    "planetscale-api-token",
    "PlanetScale service token",
    r"\b(pscale_tkn_[\w=.-]{32,64})" + END,
    ["pscale_tkn_"],
    ["PLANETSCALE_SERVICE_TOKEN=pscale_tkn_%u43%"],
    ["pscale_tkn_%u10%", "pscale_xyz_%u43%"],
)
tok(
    "planetscale-oauth-token",
    "PlanetScale OAuth token",
    r"\b(pscale_oauth_[\w=.-]{32,64})" + END,
    ["pscale_oauth_"],
    ["token: pscale_oauth_%u43%"],
    ["pscale_oauth_%u10%", "pscale-oauth-%u43%"],
)
tok(
    "planetscale-password",
    "PlanetScale database password",
    r"\b(pscale_pw_[\w=.-]{32,64})" + END,
    ["pscale_pw_"],
    ["DATABASE_PASSWORD=pscale_pw_%u43%"],
    ["pscale_pw_%u10%", "pscale-pw-%u43%"],
)
tok(
    "clickhouse-cloud-api-secret-key",
    "ClickHouse Cloud API secret key",
    r"\b(4b1d[A-Za-z0-9]{38})\b",
    ["4b1d"],
    ["CLICKHOUSE_KEY_SECRET=4b1d%X38%"],
    ["4b1d%X20%", "4b1e%X38%"],
)
tok(
    "defined-networking-api-token",
    "Defined Networking (Nebula) API token",
    r"\b(dnkey-[a-z0-9=_-]{26}-[a-z0-9=_-]{52})" + END,
    ["dnkey-"],
    ["DN_API_KEY=dnkey-%a26%-%a52%"],
    ["dnkey-%a26%-%a20%", "dnkey_%a26%-%a52%"],
)
tok(
    "backblaze-application-key",
    "Backblaze B2 application key",
    r"\b(K00[0-9][A-Za-z0-9+/]{27})" + END,
    ["k00"],
    ["B2_APPLICATION_KEY=K004%X27%"],
    ["K004%X10%", "X004%X27%"],
)
tok(
    "akamai-edgegrid-token",
    "Akamai EdgeGrid client token or access token",
    r"\b(akab-[a-z0-9]{16}-[a-z0-9]{16})\b",
    ["akab-"],
    ["client_token = akab-%a16%-%a16%"],
    ["akab-%a16%", "akab-%a8%-%a16%"],
)
tok(
    "exoscale-api-key",
    "Exoscale API key",
    r"\b(EXO[a-f0-9]{24})\b",
    ["exo"],
    ["EXOSCALE_API_KEY=EXO%h24%"],
    ["EXO%h12%", "EXO%U24%"],
)
ctx("salesforce-client-secret", "Salesforce connected app consumer secret", ["salesforce", "sfdc"], r"[A-F0-9]{64}", "%H64%")
tok(
    "salesforce-access-token",
    "Salesforce access token (session id)",
    r"\b(00D[A-Za-z0-9]{12,15}![A-Za-z0-9_.]{96})\b",
    ["00d"],
    ["SF_ACCESS_TOKEN=00D%X15%!%X96%"],
    ["00D%X15%!%X20%", "00X%X15%!%X96%"],
)

# ==================================================================================================
section("vcs")

tok(
    "github-pat",
    "GitHub personal access token (classic)",
    r"\b(ghp_[0-9A-Za-z]{36})\b",
    ["ghp_"],
    ["GITHUB_TOKEN=ghp_%crc%", "git clone https://ghp_%crc%@github.com/org/repo.git"],
    ["ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "ghp_%X30%", "ghp_%X40%"],
    verify="github-crc32",
    tp_low=["GITHUB_TOKEN=ghp_%X36%"],
)
tok(
    "github-fine-grained-pat",
    "GitHub fine-grained personal access token",
    r"\b(github_pat_[0-9A-Za-z_]{82})\b",
    ["github_pat_"],
    ["GH_TOKEN=github_pat_11%A20%_%X59%"],
    ["github_pat_%X40%", "github_pat_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"],
)
tok(
    "github-oauth",
    "GitHub OAuth access token",
    r"\b(gho_[0-9A-Za-z]{36})\b",
    ["gho_"],
    ['"oauth_token": "gho_%crc%"'],
    ["gho_%X20%", "gho_000000000000000000000000000000000000"],
    verify="github-crc32",
    tp_low=['"oauth_token": "gho_%X36%"'],
)
tok(
    "github-app-token",
    "GitHub App user-to-server or installation token",
    r"\b(" + alt(["ghu_", "ghs_"])[0] + r"[0-9A-Za-z]{36})\b",
    ["ghu_", "ghs_"],
    ["token: ghs_%crc%", "ghu_%crc%"],
    ["ghs_%X35%", "ghz_%X36%"],
    verify="github-crc32",
    tp_low=["token: ghs_%X36%"],
)
tok(
    "github-refresh-token",
    "GitHub refresh token",
    r"\b(ghr_[0-9A-Za-z]{36,76})\b",
    ["ghr_"],
    ['"refresh_token": "ghr_%X76%"'],
    ["ghr_%X20%", "ghr-%X76%"],
)
tok(
    "gitlab-pat",
    "GitLab personal access token",
    r"\b(glpat-[0-9A-Za-z_-]{20})" + END,
    ["glpat-"],
    ["GITLAB_TOKEN=glpat-%u20%"],
    ["glpat-%u12%", "glpat-xxxxxxxxxxxxxxxxxxxx"],
)
tok(
    "gitlab-pat-routable",
    "GitLab personal access token (routable)",
    r"\b(glpat-[0-9A-Za-z_-]{27,300}\.[0-9a-z]{2}\.[0-9a-z]{9})\b",
    ["glpat-"],
    ["GITLAB_TOKEN=glpat-%u40%.01.%a9%"],
    ["glpat-%u40%.01.%a3%", "glpat-%u40%"],
)
tok(
    "gitlab-ptt",
    "GitLab pipeline trigger token",
    r"\b(glptt-[0-9a-f]{40})\b",
    ["glptt-"],
    ["curl -F token=glptt-%h40% -F ref=main https://gitlab.com/api/v4/projects/1/trigger/pipeline"],
    ["glptt-%h20%", "glptt-%U40%"],
)
tok(
    "gitlab-rrt",
    "GitLab runner registration token",
    r"\b(GR1348941[0-9A-Za-z_-]{20})" + END,
    ["gr1348941"],
    ["registration-token: GR1348941%u20%"],
    ["GR1348941%u10%", "GR1348942%u20%"],
)
tok(
    "gitlab-runner-authentication-token",
    "GitLab runner authentication token",
    r"\b(glrt-[0-9A-Za-z_-]{20})" + END,
    ["glrt-"],
    ['token = "glrt-%u20%"'],
    ["glrt-%u10%", "glrt_%u20%"],
)
tok(
    "gitlab-runner-authentication-token-routable",
    "GitLab runner authentication token (routable)",
    r"\b(glrt-t\d_[0-9A-Za-z_-]{27,300}\.[0-9a-z]{2}\.[0-9a-z]{9})\b",
    ["glrt-t"],
    ['token = "glrt-t1_%u40%.01.%a9%"'],
    ["glrt-t1_%u40%", "glrt-t1_%u10%.01.%a9%"],
)
tok(
    "gitlab-deploy-token",
    "GitLab deploy token",
    r"\b(gldt-[0-9A-Za-z_-]{20})" + END,
    ["gldt-"],
    ["CI_DEPLOY_PASSWORD=gldt-%u20%"],
    ["gldt-%u10%", "gldx-%u20%"],
)
tok(
    "gitlab-feed-token",
    "GitLab feed token",
    r"\b(glft-[0-9A-Za-z_-]{20})" + END,
    ["glft-"],
    ["https://gitlab.com/dashboard/projects.atom?feed_token=glft-%u20%"],
    ["glft-%u5%", "glft_%u20%"],
)
tok(
    "gitlab-incoming-mail-token",
    "GitLab incoming e-mail token",
    r"\b(glimt-[0-9A-Za-z_-]{25})" + END,
    ["glimt-"],
    ["incoming_email_token: glimt-%u25%"],
    ["glimt-%u10%", "glimx-%u25%"],
)
tok(
    "gitlab-kubernetes-agent-token",
    "GitLab agent for Kubernetes token",
    r"\b(glagent-[0-9A-Za-z_-]{50})" + END,
    ["glagent-"],
    ["helm install gitlab-agent --set config.token=glagent-%u50%"],
    ["glagent-%u20%", "glagent_%u50%"],
)
tok(
    "gitlab-oauth-app-secret",
    "GitLab OAuth application secret",
    r"\b(gloas-[0-9A-Za-z_-]{64})" + END,
    ["gloas-"],
    ["GITLAB_APP_SECRET=gloas-%u64%"],
    ["gloas-%u30%", "gloax-%u64%"],
)
tok(
    "gitlab-scim-token",
    "GitLab SCIM token",
    r"\b(glsoat-[0-9A-Za-z_-]{20})" + END,
    ["glsoat-"],
    ["scim_token: glsoat-%u20%"],
    ["glsoat-%u8%", "glsoax-%u20%"],
)
tok(
    "gitlab-cicd-job-token",
    "GitLab CI/CD job token",
    r"\b(glcbt-[0-9A-Za-z]{1,5}_[0-9A-Za-z_-]{20})" + END,
    ["glcbt-"],
    ["CI_JOB_TOKEN=glcbt-64_%u20%"],
    ["glcbt-64_%u8%", "glcbt_64_%u20%"],
)
tok(
    "gitlab-feature-flag-client-token",
    "GitLab feature flag client token",
    r"\b(glffct-[0-9A-Za-z_-]{20})" + END,
    ["glffct-"],
    ["UNLEASH_INSTANCE_ID=glffct-%u20%"],
    ["glffct-%u10%", "glffcx-%u20%"],
)
tok(
    "gitlab-session-cookie",
    "GitLab session cookie",
    r"\b_gitlab_session=([0-9a-z]{32})\b",
    ["_gitlab_session="],
    ["Cookie: _gitlab_session=%a32%"],
    ["_gitlab_session=%a10%", "_gitlab_session=;"],
)
ctx("gitea-access-token", "Gitea / Forgejo access token", ["gitea", "forgejo"], r"[a-f0-9]{40}", "%h40%")
tok(
    "bitbucket-app-password",
    "Atlassian / Bitbucket app password",
    r"\b(ATBB[A-Za-z0-9_=.-]{32})" + END,
    ["atbb"],
    ["BITBUCKET_APP_PASSWORD=ATBB%X32%"],
    ["ATBB%X10%", "ATBX%X32%"],
)
ctx("bitbucket-client-secret", "Bitbucket OAuth consumer secret", ["bitbucket"], r"[A-Za-z0-9_=-]{32}", "%u32%", entropy=3.5,
    tp=["BITBUCKET_CLIENT_SECRET=%u32%"])
tok(
    "atlassian-api-token",
    "Atlassian API token",
    r"\b(ATATT3[A-Za-z0-9_=-]{180,200})" + END,
    ["atatt3"],
    ["JIRA_API_TOKEN=ATATT3xFfGF0%u170%=%H8%"],
    ["ATATT3%u40%", "ATATT4%u186%"],
)
ctx("atlassian-legacy-api-token", "Atlassian API token (legacy 24-character format)", ["atlassian", "jira", "confluence_api"],
    r"[A-Za-z0-9]{24}", "%X24%", entropy=3.5)
tok(
    "circleci-api-token",
    "CircleCI personal or project API token",
    r"\b(" + alt(["CCIPAT_", "CCIPRJ_"])[0] + r"[A-Za-z0-9]{22}_[a-f0-9]{40})\b",
    ["ccipat_", "cciprj_"],
    ["CIRCLE_TOKEN=CCIPAT_%X22%_%h40%"],
    ["CCIPAT_%X22%_%h20%", "CCIXXX_%X22%_%h40%"],
)
ctx("travisci-access-token", "Travis CI access token", ["travis"], r"[A-Za-z0-9_-]{22}", "%u22%", entropy=3.0)
tok(
    "buildkite-api-token",
    "Buildkite user API access token",
    r"\b(bkua_[a-f0-9]{40})\b",
    ["bkua_"],
    ["BUILDKITE_API_TOKEN=bkua_%h40%"],
    ["bkua_%h20%", "bkux_%h40%"],
)
ctx("buildkite-agent-token", "Buildkite agent token", ["buildkite_agent", "buildkite-agent"], r"[a-f0-9]{50}", "%h50%",
    tp=["BUILDKITE_AGENT_TOKEN=%h50%"])
ctx("droneci-access-token", "Drone CI access token", ["drone_", "drone-", "droneci"], r"[A-Za-z0-9]{32}", "%X32%", entropy=3.5)
ctx("codecov-access-token", "Codecov upload / access token", ["codecov"], UUID + "|[a-f0-9]{32}", "%uuid%")
tok(
    "sonar-api-token",
    "SonarQube / SonarCloud token",
    r"\b(" + alt(["squ_", "sqp_", "sqa_"])[0] + r"[a-f0-9]{40})\b",
    ["squ_", "sqp_", "sqa_"],
    ["SONAR_TOKEN=squ_%h40%", "sonar.token=sqp_%h40%"],
    ["squ_%h20%", "sqx_%h40%"],
)
ctx("snyk-api-token", "Snyk API token", ["snyk"], UUID, "%uuid%")
tok(
    "sourcegraph-access-token",
    "Sourcegraph access token",
    r"\b(sgp_(?:[a-f0-9]{16}|local)_[a-f0-9]{40})\b",
    ["sgp_"],
    ["SRC_ACCESS_TOKEN=sgp_%h16%_%h40%", "sgp_local_%h40%"],
    ["sgp_%h16%_%h20%", "sgp_remote_%h40%"],
)
tok(
    "harness-api-key",
    "Harness personal access or service account token",
    r"\b(" + alt([r"pat\.", r"sat\."])[0] + r"[A-Za-z0-9_-]{22}\.[a-f0-9]{24}\.[A-Za-z0-9]{20})\b",
    ["pat.", "sat."],
    ["HARNESS_API_KEY=pat.%X22%.%h24%.%X20%"],
    ["pat.%X22%.%h24%", "pot.%X22%.%h24%.%X20%"],
)
ctx("octopus-deploy-api-key", "Octopus Deploy API key", ["octopus"], r"API-[A-Z0-9]{26}", "API-%A26%", entropy=3.5)
tok(
    "prefect-api-token",
    "Prefect Cloud API key",
    r"\b(pnu_[A-Za-z0-9]{36})\b",
    ["pnu_"],
    ["PREFECT_API_KEY=pnu_%X36%"],
    ["pnu_%X20%", "pnx_%X36%"],
)
tok(
    "scalingo-api-token",
    "Scalingo API token",
    r"\b(tk-us-[\w-]{48})" + END,
    ["tk-us-"],
    ["SCALINGO_API_TOKEN=tk-us-%u48%"],
    ["tk-us-%u20%", "tk-eu_%u48%"],
)
tok(
    "settlemint-personal-access-token",
    "SettleMint personal access token",
    r"\b(sm_pat_[a-zA-Z0-9]{16})\b",
    ["sm_pat_"],
    ["SETTLEMINT_ACCESS_TOKEN=sm_pat_%X16%"],
    ["sm_pat_%X8%", "sm_pat_%X24%"],
)
tok(
    "settlemint-application-access-token",
    "SettleMint application access token",
    r"\b(sm_aat_[a-zA-Z0-9]{16})\b",
    ["sm_aat_"],
    ["token: sm_aat_%X16%"],
    ["sm_aat_%X8%", "sm-aat-%X16%"],
)
tok(
    "settlemint-service-access-token",
    "SettleMint service access token",
    r"\b(sm_sat_[a-zA-Z0-9]{16})\b",
    ["sm_sat_"],
    ["token: sm_sat_%X16%"],
    ["sm_sat_%X6%", "sm_sat_%X30%"],
)
tok(
    "jenkins-api-token",
    "Jenkins API token in a user:token URL",
    r"(?i)\bjenkins[\w.-]{0,40}?(?:token|apitoken|api_token)[\s'\"=:]{1,5}(11[a-f0-9]{32})\b",
    ["jenkins"],
    ["JENKINS_API_TOKEN=11%h32%"],
    ["JENKINS_API_TOKEN=%h34%", "JENKINS_API_TOKEN=11%h20%"],
    group=1,
)

# ==================================================================================================
section("payment")

tok(
    "stripe-access-token",
    "Stripe secret or restricted API key",
    r"\b(" + alt(["sk_test_", "sk_live_", "sk_prod_", "rk_test_", "rk_live_", "rk_prod_"])[0] + r"[A-Za-z0-9]{10,99})\b",
    ["sk_test", "sk_live", "sk_prod", "rk_test", "rk_live", "rk_prod"],
    ["STRIPE_SECRET_KEY=sk_live_%X99%", "stripe.api_key = 'rk_test_%X24%'"],
    ["pk_live_%X99%", "sk_live_xxxxxxxxxxxxxxxxxxxxxxxx"],
)
tok(
    "stripe-webhook-secret",
    "Stripe webhook signing secret",
    r"\b(whsec_[A-Za-z0-9]{32,64})\b",
    ["whsec_"],
    ["STRIPE_WEBHOOK_SECRET=whsec_%X32%"],
    ["whsec_%X10%", "whsec-%X32%"],
)
tok(
    "square-access-token",
    "Square access token",
    r"\b((?:EAAA|sq0atp-)[0-9A-Za-z_-]{22,60})" + END,
    ["eaaa", "sq0atp-"],
    ["SQUARE_ACCESS_TOKEN=EAAA%u60%", "sq0atp-%u22%"],
    ["EAAA%u10%", "sq0atp-%u10%"],
)
tok(
    "square-oauth-secret",
    "Square OAuth application secret",
    r"\b(sq0csp-[0-9A-Za-z_-]{43})" + END,
    ["sq0csp-"],
    ["SQUARE_APP_SECRET=sq0csp-%u43%"],
    ["sq0csp-%u20%", "sq0cs-%u43%"],
)
tok(
    "paypal-braintree-access-token",
    "PayPal Braintree access token",
    r"\b(access_token\$(?:production|sandbox)\$[0-9a-z]{16}\$[0-9a-f]{32})\b",
    ["access_token$"],
    ["BRAINTREE_ACCESS_TOKEN=access_token$production$%a16%$%h32%"],
    ["access_token$production$%a16%$%h10%", "access_token$staging$%a16%$%h32%"],
)
ctx("paypal-client-secret", "PayPal REST API client secret", ["paypal"], r"E[A-Za-z0-9_-]{79}", "E%u79%", entropy=4)
ctx("braintree-private-key", "Braintree private key", ["braintree"], r"[a-f0-9]{32}", "%h32%")
tok(
    "adyen-api-key",
    "Adyen API key",
    r"\b(AQE[A-Za-z0-9+/=_.-]{100,250})" + END,
    ["aqe"],
    ["ADYEN_API_KEY=AQE%b150%"],
    ["AQE%b30%", "AQX%b150%"],
    entropy=4.5,
)
ctx("adyen-hmac-key", "Adyen webhook HMAC key", ["adyen_hmac", "adyen-hmac", "adyenhmac"], r"[A-F0-9]{64}", "%H64%")
tok(
    "plaid-api-token",
    "Plaid access token",
    r"\b(" + alt(["access-sandbox-", "access-development-", "access-production-"])[0] + UUID + r")\b",
    ["access-sandbox-", "access-development-", "access-production-"],
    ["plaid_access_token = access-production-%uuid%"],
    ["access-production-%h32%", "access-staging-%uuid%"],
)
ctx("plaid-secret-key", "Plaid secret", ["plaid"], r"[a-f0-9]{30}", "%h30%", tp=["PLAID_SECRET=%h30%"])
ctx("gocardless-api-token", "GoCardless API access token", ["gocardless"], r"(?:live|sandbox)_[A-Za-z0-9_=-]{40}",
    "live_%u40%", entropy=4)
ctx("coinbase-access-token", "Coinbase access token", ["coinbase"], r"[A-Za-z0-9_-]{64}", "%u64%", entropy=4)
ctx("kraken-access-token", "Kraken API secret", ["kraken"], r"[A-Za-z0-9/=_+-]{80,90}", "%b86%==", entropy=4)
ctx("kucoin-secret-key", "KuCoin API secret", ["kucoin"], UUID, "%uuid%", tp=["KUCOIN_SECRET=%uuid%"])
ctx("bittrex-access-key", "Bittrex API key", ["bittrex_key", "bittrex-key", "bittrex_api_key", "bittrex-api-key", "bittrex_access",
    "bittrex-access"], r"[a-z0-9]{32}", "%a32%", entropy=3.5, tp=["BITTREX_KEY=%a32%", "bittrex_api_key: %a32%"],
    fp=["BITTREX_SECRET=%a32%"])
ctx("bittrex-secret-key", "Bittrex API secret", ["bittrex_secret", "bittrex-secret", "bittrex_api_secret", "bittrex-api-secret"],
    r"[a-z0-9]{32}", "%a32%", entropy=3.5, tp=["BITTREX_SECRET=%a32%", "bittrex_api_secret: '%a32%'"], fp=["BITTREX_KEY=%a32%"])
ctx("binance-api-key", "Binance API key or secret", ["binance"], r"[A-Za-z0-9]{64}", "%X64%", entropy=4)
tok(
    "flutterwave-secret-key",
    "Flutterwave secret key",
    r"\b(FLWSECK(?:_TEST)?-[a-h0-9]{32}-X)\b",
    ["flwseck"],
    ["FLW_SECRET_KEY=FLWSECK_TEST-%h32%-X"],
    ["FLWSECK_TEST-%h20%-X", "FLWSECK_TEST-%h32%-Y"],
)
tok(
    "flutterwave-encryption-key",
    "Flutterwave encryption key",
    r"\b(FLWSECK(?:_TEST)?[a-h0-9]{12})\b",
    ["flwseck"],
    ["FLW_ENCRYPTION_KEY=FLWSECK_TEST%h12%"],
    ["FLWSECK_TEST%h8%", "FLWSECK_TEST%h16%"],
)
ctx("razorpay-key-secret", "Razorpay API key secret", ["razorpay"], r"[A-Za-z0-9]{24}", "%X24%", entropy=3.5,
    tp=["RAZORPAY_KEY_SECRET=%X24%"])
tok(
    "easypost-api-token",
    "EasyPost production API key",
    r"\b(EZAK[a-z0-9]{54})\b",
    ["ezak"],
    ["EASYPOST_API_KEY=EZAK%a54%"],
    ["EZAK%a20%", "EZAX%a54%"],
)
tok(
    "easypost-test-api-token",
    "EasyPost test API key",
    r"\b(EZTK[a-z0-9]{54})\b",
    ["eztk"],
    ["EASYPOST_TEST_KEY=EZTK%a54%"],
    ["EZTK%a30%", "EZTX%a54%"],
)
tok(
    "shippo-api-token",
    "Shippo API token",
    r"\b(shippo_(?:live|test)_[a-f0-9]{40})\b",
    ["shippo_"],
    ["SHIPPO_API_KEY=shippo_live_%h40%"],
    ["shippo_live_%h20%", "shippo_prod_%h40%"],
)
tok(
    "duffel-api-token",
    "Duffel API token",
    r"\b(duffel_(?:test|live)_[A-Za-z0-9_=-]{43})" + END,
    ["duffel_"],
    ["DUFFEL_ACCESS_TOKEN=duffel_test_%u43%"],
    ["duffel_test_%u20%", "duffel_prod_%u43%"],
)
ctx("lob-api-key", "Lob API key", ["lob_api", "lob-api", "lob_key", "lob_secret"], r"(?:live|test)_[a-f0-9]{35}", "live_%h35%",
    tp=["LOB_API_KEY=live_%h35%"])
ctx("finicity-client-secret", "Finicity partner secret", ["finicity"], r"[A-Za-z0-9]{20}", "%X20%", entropy=3.5,
    tp=["FINICITY_PARTNER_SECRET=%X20%"])
ctx("finicity-api-token", "Finicity app key", ["finicity"], r"[a-f0-9]{32}", "%h32%", tp=["FINICITY_APP_KEY=%h32%"])
ctx("freshbooks-access-token", "FreshBooks access token", ["freshbooks"], r"[a-z0-9]{64}", "%a64%", entropy=4)
tok(
    "shopify-access-token",
    "Shopify Admin API access token",
    r"\b(shpat_[a-fA-F0-9]{32})\b",
    ["shpat_"],
    ["SHOPIFY_ACCESS_TOKEN=shpat_%h32%"],
    ["shpat_%h20%", "shpat_%l32%"],
)
tok(
    "shopify-custom-access-token",
    "Shopify custom app access token",
    r"\b(shpca_[a-fA-F0-9]{32})\b",
    ["shpca_"],
    ["token = shpca_%h32%"],
    ["shpca_%h16%", "shpcx_%h32%"],
)
tok(
    "shopify-private-app-access-token",
    "Shopify private app access token",
    r"\b(shppa_[a-fA-F0-9]{32})\b",
    ["shppa_"],
    ["token = shppa_%h32%"],
    ["shppa_%h30%", "shppa-%h32%"],
)
tok(
    "shopify-shared-secret",
    "Shopify app shared secret",
    r"\b(shpss_[a-fA-F0-9]{32})\b",
    ["shpss_"],
    ["SHOPIFY_API_SECRET=shpss_%h32%"],
    ["shpss_%h10%", "shpss_%l32%"],
)
ctx("squarespace-access-token", "Squarespace API key", ["squarespace"], UUID, "%uuid%")
# ==================================================================================================
section("chat")

tok(
    "slack-bot-token",
    "Slack bot token",
    r"\b(xoxb-[0-9]{10,13}-[0-9]{10,13}[a-zA-Z0-9-]{0,26})" + END,
    ["xoxb-"],
    ["SLACK_BOT_TOKEN=xoxb-%d12%-%d13%-%X24%"],
    ["xoxb-%d5%-%d13%-%X24%", "xoxb-xxxxxxxxxx-xxxxxxxxxxxxx"],
)
tok(
    "slack-user-token",
    "Slack user token",
    r"\b(" + alt(["xoxp-", "xoxe-"])[0] + r"[0-9]{10,13}(?:-[0-9]{10,13}){2}-[a-zA-Z0-9-]{28,34})" + END,
    ["xoxp-", "xoxe-"],
    ["SLACK_USER_TOKEN=xoxp-%d12%-%d12%-%d13%-%h32%"],
    ["xoxp-%d12%-%d12%-%h32%", "xoxp-%d12%-%d12%-%d13%-%h10%"],
)
tok(
    "slack-app-token",
    "Slack app-level token",
    r"(?i)\b(xapp-\d-[A-Z0-9]{9,12}-\d{10,13}-[a-z0-9]{60,70})\b",
    ["xapp-"],
    ["SLACK_APP_TOKEN=xapp-1-A%A10%-%d13%-%h64%"],
    ["xapp-1-A%A10%-%d13%-%h20%", "xapp-1-%h64%"],
)
tok(
    "slack-config-access-token",
    "Slack configuration access token",
    r"(?i)\b(" + alt([r"xoxe\.xoxb-", r"xoxe\.xoxp-"])[0] + r"\d-[A-Z0-9]{163,166})\b",
    ["xoxe.xoxb-", "xoxe.xoxp-"],
    ["SLACK_CONFIG_TOKEN=xoxe.xoxp-1-%A164%"],
    ["xoxe.xoxp-1-%A40%", "xoxe.xoxz-1-%A164%"],
)
tok(
    "slack-config-refresh-token",
    "Slack configuration refresh token",
    r"(?i)\b(xoxe-\d-[A-Z0-9]{146})\b",
    ["xoxe-"],
    ["SLACK_CONFIG_REFRESH_TOKEN=xoxe-1-%A146%"],
    ["xoxe-1-%A100%", "xoxe-%A146%"],
)
tok(
    "slack-legacy-bot-token",
    "Slack legacy bot token",
    r"\b(xoxb-[0-9]{8,14}-[a-zA-Z0-9]{18,26})\b",
    ["xoxb-"],
    ["token: xoxb-%d11%-%X24%"],
    ["xoxb-%d11%-%X10%", "xoxb-%X11%-%X24%"],
)
tok(
    "slack-legacy-token",
    "Slack legacy token",
    r"\b(" + alt(["xoxo-", "xoxs-"])[0] + r"\d{3,15}-\d{3,15}-\d{3,15}-[a-f0-9]{20,64})\b",
    ["xoxo-", "xoxs-"],
    ["SLACK_TOKEN=xoxs-%d10%-%d10%-%d12%-%h64%"],
    ["xoxs-%d10%-%d10%-%h64%", "xoxs-%d10%-%d10%-%d12%-%h10%"],
)
tok(
    "slack-legacy-workspace-token",
    "Slack legacy workspace token",
    r"\b(" + alt(["xoxa-", "xoxr-"])[0] + r"(?:\d-)?[0-9a-zA-Z]{8,48})\b",
    ["xoxa-", "xoxr-"],
    ["SLACK_WORKSPACE_TOKEN=xoxa-2-%X40%"],
    ["xoxa-2-%X5%", "xoxq-2-%X40%"],
)
tok(
    "slack-webhook-url",
    "Slack incoming webhook or workflow URL",
    r"(?i)(hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/]{43,60})",
    ["hooks.slack.com"],
    ["SLACK_WEBHOOK=https://hooks.slack.com/services/T%A8%/B%A10%/%X24%"],
    ["https://hooks.slack.com/services/T%A8%/B%A10%", "https://api.slack.com/apps"],
)
ctx("discord-api-token", "Discord API key", ["discord"], r"[a-f0-9]{64}", "%h64%")
ctx("discord-client-secret", "Discord client secret", ["discord"], r"[A-Za-z0-9_-]{32}", "%u32%", entropy=3.5,
    tp=["DISCORD_CLIENT_SECRET=%u32%"])
ctx("discord-bot-token", "Discord bot token", ["discord", "bot_token"], r"[MNO][A-Za-z0-9_-]{23,25}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38}",
    "M%u25%.%u6%.%u38%", entropy=4, tp=["DISCORD_BOT_TOKEN=M%X25%.%X6%.%X38%"])
tok(
    "discord-webhook-url",
    "Discord webhook URL",
    r"(?i)(" + alt([r"discord\.com/api/webhooks/", r"discordapp\.com/api/webhooks/"])[0] + r"[0-9]{17,20}/[A-Za-z0-9_-]{60,70})" + END,
    ["discord.com/api/webhooks/", "discordapp.com/api/webhooks/"],
    ["https://discord.com/api/webhooks/%d19%/%u68%"],
    ["https://discord.com/api/webhooks/%d19%/", "https://discord.com/api/webhooks/{id}/{token}"],
)
tok(
    "telegram-bot-api-token",
    "Telegram bot API token",
    r"(?:^|[^0-9])([0-9]{8,10}:AA[0-9A-Za-z_-]{33})" + END,
    [":aa"],
    ["TELEGRAM_BOT_TOKEN=%d10%:AA%u33%", "https://api.telegram.org/bot%d9%:AA%u33%/sendMessage"],
    ["%d10%:AA%u10%", "%d10%:BB%u33%"],
)
tok(
    "microsoft-teams-webhook",
    "Microsoft Teams incoming webhook URL",
    r"(?i)(https://[a-z0-9-]{1,64}\.webhook\.office\.com/webhookb2/" + UUID + "@" + UUID + r"/IncomingWebhook/[a-z0-9]{32}/" + UUID + r"(?:/[A-Za-z0-9_-]{10,64})?)",
    ["webhook.office.com"],
    ["https://contoso.webhook.office.com/webhookb2/%uuid%@%uuid%/IncomingWebhook/%h32%/%uuid%"],
    ["https://contoso.webhook.office.com/webhookb2/%uuid%", "https://outlook.office.com/owa/"],
)
tok(
    "microsoft-teams-workflow-webhook",
    "Microsoft Teams / Power Automate workflow trigger URL",
    r"(?i)(https://[a-z0-9.-]{1,100}\.logic\.azure\.com(?::443)?/workflows/[a-f0-9]{32}/triggers/[A-Za-z0-9_-]{1,64}/paths/invoke\?[A-Za-z0-9%&=._-]{0,300}?sig=[A-Za-z0-9_-]{43})",
    ["logic.azure.com"],
    ["https://prod-12.westeurope.logic.azure.com:443/workflows/%h32%/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=%u43%"],
    ["https://prod-12.westeurope.logic.azure.com:443/workflows/%h32%/triggers/manual/paths/invoke?api-version=2016-06-01", "https://portal.azure.com/"],
)
ctx("mattermost-access-token", "Mattermost access token", ["mattermost"], r"[a-z0-9]{26}", "%a26%", entropy=3.5)
ctx("gitter-access-token", "Gitter access token", ["gitter"], r"[a-f0-9]{40}", "%h40%")
ctx("zulip-api-key", "Zulip API key", ["zulip"], r"[A-Za-z0-9]{32}", "%X32%", entropy=3.5)
tok(
    "twilio-api-key",
    "Twilio API key SID",
    r"\b(" + alt(["SK" + d for d in "0123456789abcdef"])[0] + r"[0-9a-f]{31})\b",
    ["sk" + d for d in "0123456789abcdef"],
    ["TWILIO_API_KEY=SK%h32%", "api_key_sid = 'SK%h32%'", "const sid = \"SK%h32%\";"],
    ["SK%h30%", "SK00000000000000000000000000000000", "SKU%h32%", "TASK%h32%"],
    entropy=3.3,
    confidence="medium",
)
ctx("twilio-auth-token", "Twilio auth token", ["twilio"], r"[a-f0-9]{32}", "%h32%", tp=["TWILIO_AUTH_TOKEN=%h32%"])
tok(
    "sendgrid-api-token",
    "SendGrid API key",
    r"\b(SG\.[0-9A-Za-z_-]{22}\.[0-9A-Za-z_-]{43})" + END,
    ["sg."],
    ["SENDGRID_API_KEY=SG.%u22%.%u43%"],
    ["SG.%u22%.%u20%", "SG.%u10%.%u43%"],
)
ctx("mailgun-private-api-token", "Mailgun private API key", ["mailgun"], r"key-[a-f0-9]{32}|[a-f0-9]{32}-[a-f0-9]{8}-[a-f0-9]{8}",
    "key-%h32%", tp=["MAILGUN_API_KEY=key-%h32%", "mailgun_key: %h32%-%h8%-%h8%"])
ctx("mailgun-signing-key", "Mailgun webhook signing key", ["mailgun_signing", "mailgun-signing", "mailgun_webhook"],
    r"[a-h0-9]{32}-[a-h0-9]{8}-[a-h0-9]{8}", "%h32%-%h8%-%h8%", tp=["MAILGUN_SIGNING_KEY=%h32%-%h8%-%h8%"])
tok(
    "mailchimp-api-key",
    "Mailchimp API key",
    r"(?i)\b([a-f0-9]{32}-us\d{1,2})\b",
    ["-us"],
    ["MAILCHIMP_API_KEY=%h32%-us21"],
    ["%h32%-eu21", "%h20%-us21"],
)
ctx("mandrill-api-key", "Mandrill (Mailchimp Transactional) API key", ["mandrill"], r"(?:md-)?[A-Za-z0-9_-]{22}", "md-%u22%", entropy=3.5)
tok(
    "sendinblue-api-token",
    "Brevo (Sendinblue) API key",
    r"\b(xkeysib-[a-f0-9]{64}-[a-zA-Z0-9]{16})\b",
    ["xkeysib-"],
    ["BREVO_API_KEY=xkeysib-%h64%-%X16%"],
    ["xkeysib-%h64%", "xkeysib-%h40%-%X16%"],
)
tok(
    "brevo-smtp-key",
    "Brevo (Sendinblue) SMTP key",
    r"\b(xsmtpsib-[a-f0-9]{64}-[a-zA-Z0-9]{16})\b",
    ["xsmtpsib-"],
    ["SMTP_PASSWORD=xsmtpsib-%h64%-%X16%"],
    ["xsmtpsib-%h64%", "xsmtpsib-%h10%-%X16%"],
)
ctx("postmark-server-token", "Postmark server or account token", ["postmark"], UUID, "%uuid%")
tok(
    "mailersend-api-token",
    "MailerSend API token",
    r"\b(mlsn\.[a-f0-9]{64})\b",
    ["mlsn."],
    ["MAILERSEND_API_KEY=mlsn.%h64%"],
    ["mlsn.%h20%", "mlsn_%h64%"],
)
ctx("resend-api-key", "Resend API key", ["resend_api", "resend-api", "resend_key", "resendapi"], r"re_[A-Za-z0-9]{8}_[A-Za-z0-9]{24}", "re_%X8%_%X24%", entropy=3.5)
ctx("sparkpost-api-token", "SparkPost API key", ["sparkpost"], r"[a-f0-9]{40}", "%h40%")
ctx("mailjet-api-secret", "Mailjet API secret key", ["mailjet", "mj_apikey"], r"[a-f0-9]{32}", "%h32%")
ctx("messagebird-api-token", "MessageBird (Bird) API key", ["messagebird", "message_bird", "message-bird"], r"[A-Za-z0-9]{25}",
    "%X25%", entropy=3.5)
ctx("vonage-api-secret", "Vonage (Nexmo) API secret", ["vonage", "nexmo"], r"[A-Za-z0-9]{16}", "%X16%", entropy=3.5)
ctx("plivo-auth-token", "Plivo auth token", ["plivo"], r"[A-Za-z0-9]{40}", "%X40%", entropy=4)
ctx("telnyx-api-key", "Telnyx API v2 key", ["telnyx"], r"KEY[0-9A-F]{32}_[A-Za-z0-9]{22}", "KEY%H32%_%X22%", entropy=4)
ctx("sendbird-access-token", "Sendbird API token", ["sendbird"], r"[a-f0-9]{40}", "%h40%", tp=["SENDBIRD_API_TOKEN=%h40%"])
ctx("pusher-app-secret", "Pusher Channels app secret", ["pusher"], r"[a-f0-9]{20}", "%h20%", entropy=2.5, tp=["PUSHER_APP_SECRET=%h20%"])
ctx("intercom-api-key", "Intercom access token", ["intercom"], r"[A-Za-z0-9=_-]{60}", "%u59%=", entropy=4)
ctx("zendesk-secret-key", "Zendesk API token", ["zendesk"], r"[A-Za-z0-9]{40}", "%X40%", entropy=4)
ctx("freshdesk-api-key", "Freshdesk API key", ["freshdesk"], r"[A-Za-z0-9]{20}", "%X20%", entropy=3.5)
ctx("hubspot-api-key", "HubSpot legacy API key", ["hubspot"], UUID, "%uuid%")
tok(
    "hubspot-private-app-token",
    "HubSpot private app access token",
    r"\b(" + alt(["pat-na", "pat-eu", "pat-ap"])[0] + r"\d-" + UUID + r")\b",
    ["pat-na", "pat-eu", "pat-ap"],
    ["HUBSPOT_ACCESS_TOKEN=pat-na1-%uuid%"],
    ["pat-na1-%h32%", "pat-xx1-%uuid%"],
)
ctx("pagerduty-api-key", "PagerDuty REST API key", ["pagerduty"], r"[A-Za-z0-9_+-]{20}", "u+%u18%", entropy=3.5)
ctx("opsgenie-api-key", "Opsgenie API key", ["opsgenie"], UUID, "%uuid%")

# ==================================================================================================
section("ai")

tok(
    "openai-api-key",
    "OpenAI API key",
    r"\b(sk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,164}|[A-Za-z0-9]{20})T3BlbkFJ[A-Za-z0-9_-]{20,164})" + END,
    ["t3blbkfj"],
    ["OPENAI_API_KEY=sk-proj-%u74%T3BlbkFJ%u74%", "openai.api_key = 'sk-%X20%T3BlbkFJ%X20%'"],
    ["sk-proj-%u74%", "sk-%X20%T3BlbkFX%X20%"],
)
tok(
    "anthropic-api-key",
    "Anthropic API key",
    r"\b(sk-ant-api03-[A-Za-z0-9_-]{93}AA)" + END,
    ["sk-ant-api03-"],
    ["ANTHROPIC_API_KEY=sk-ant-api03-%u93%AA"],
    ["sk-ant-api03-%u40%AA", "sk-ant-api03-xxxxxxxx"],
)
tok(
    "anthropic-admin-api-key",
    "Anthropic admin API key",
    r"\b(sk-ant-admin01-[A-Za-z0-9_-]{93}AA)" + END,
    ["sk-ant-admin01-"],
    ["ANTHROPIC_ADMIN_KEY=sk-ant-admin01-%u93%AA"],
    ["sk-ant-admin01-%u50%AA", "sk-ant-admin02-%u93%AA"],
)
tok(
    "huggingface-access-token",
    "Hugging Face access token",
    r"\b(hf_[a-zA-Z]{34})\b",
    ["hf_"],
    ["HF_TOKEN=hf_%L34%"],
    ["hf_%L20%", "hf_%d34%"],
)
tok(
    "huggingface-organization-api-token",
    "Hugging Face organization API token",
    r"\b(api_org_[a-zA-Z]{34})\b",
    ["api_org_"],
    ["HF_ORG_TOKEN=api_org_%L34%"],
    ["api_org_%L10%", "api_org_%d34%"],
)
ctx("cohere-api-token", "Cohere API key", ["cohere", "co_api"], r"[A-Za-z0-9]{40}", "%X40%", entropy=4)
tok(
    "replicate-api-token",
    "Replicate API token",
    r"\b(r8_[A-Za-z0-9]{37})\b",
    ["r8_"],
    ["REPLICATE_API_TOKEN=r8_%X37%"],
    ["r8_%X20%", "r9_%X37%"],
)
tok(
    "groq-api-key",
    "Groq API key",
    r"\b(gsk_[A-Za-z0-9]{52})\b",
    ["gsk_"],
    ["GROQ_API_KEY=gsk_%X52%"],
    ["gsk_%X30%", "gsx_%X52%"],
)
tok(
    "perplexity-api-key",
    "Perplexity API key",
    r"\b(pplx-[A-Za-z0-9]{48})\b",
    ["pplx-"],
    ["PERPLEXITY_API_KEY=pplx-%X48%"],
    ["pplx-%X20%", "pplx_%X48%"],
)
tok(
    "xai-api-key",
    "xAI (Grok) API key",
    r"\b(xai-[A-Za-z0-9]{80})\b",
    ["xai-"],
    ["XAI_API_KEY=xai-%X80%"],
    ["xai-%X40%", "xai_%X80%"],
)
tok(
    "openrouter-api-key",
    "OpenRouter API key",
    r"\b(sk-or-v1-[a-f0-9]{64})\b",
    ["sk-or-v1-"],
    ["OPENROUTER_API_KEY=sk-or-v1-%h64%"],
    ["sk-or-v1-%h32%", "sk-or-v2-%h64%"],
)
ctx("mistral-api-key", "Mistral AI API key", ["mistral"], r"[A-Za-z0-9]{32}", "%X32%", entropy=3.5)
ctx("deepseek-api-key", "DeepSeek API key", ["deepseek"], r"sk-[a-f0-9]{32}", "sk-%h32%")
ctx("together-api-key", "Together AI API key", ["together_api", "together-api", "togetherai", "together_ai"], r"(?:tgp_v1_)?[A-Za-z0-9_-]{43}|[a-f0-9]{64}", "%h64%",
    tp=["TOGETHER_API_KEY=%h64%", "together_api_key: tgp_v1_%u43%"])
tok(
    "fireworks-api-key",
    "Fireworks AI API key",
    r"\b(fw_[A-Za-z0-9]{24})\b",
    ["fw_"],
    ["FIREWORKS_API_KEY=fw_%X24%"],
    ["fw_%X12%", "fw_%X30%"],
)
tok(
    "langsmith-api-key",
    "LangSmith API key",
    r"\b(" + alt(["lsv2_pt_", "lsv2_sk_"])[0] + r"[a-f0-9]{32}_[a-f0-9]{10})\b",
    ["lsv2_pt_", "lsv2_sk_"],
    ["LANGSMITH_API_KEY=lsv2_pt_%h32%_%h10%"],
    ["lsv2_pt_%h32%", "lsv2_xx_%h32%_%h10%"],
)
tok(
    "pinecone-api-key",
    "Pinecone API key",
    r"\b(pcsk_[A-Za-z0-9]{5,6}_[A-Za-z0-9]{60,70})\b",
    ["pcsk_"],
    ["PINECONE_API_KEY=pcsk_%X6%_%X65%"],
    ["pcsk_%X6%_%X20%", "pcsk-%X6%_%X65%"],
)
ctx("elevenlabs-api-key", "ElevenLabs API key", ["elevenlabs", "xi-api-key", "xi_api_key"], r"(?:sk_)?[a-f0-9]{32,48}", "sk_%h48%")
ctx("assemblyai-api-key", "AssemblyAI API key", ["assemblyai", "assembly_ai"], r"[a-f0-9]{32}", "%h32%")
ctx("wandb-api-key", "Weights & Biases API key", ["wandb"], r"[a-f0-9]{40}", "%h40%")
ctx("deepgram-api-key", "Deepgram API key", ["deepgram"], r"[a-f0-9]{40}", "%h40%")
tok(
    "nvidia-api-key",
    "NVIDIA NGC / build.nvidia.com API key",
    r"\b(nvapi-[A-Za-z0-9_-]{64})" + END,
    ["nvapi-"],
    ["NVIDIA_API_KEY=nvapi-%u64%"],
    ["nvapi-%u30%", "nvapi_%u64%"],
)
ctx("privateai-api-token", "Private AI API key", ["private_ai", "private-ai", "privateai"], r"[a-z0-9]{32}", "%a32%", entropy=3.5)
ctx("voyage-api-key", "Voyage AI API key", ["voyage_api", "voyage-api", "voyageai", "voyage_ai"], r"pa-[A-Za-z0-9_-]{43}", "pa-%u43%", entropy=4)
ctx("stability-api-key", "Stability AI API key", ["stability_api", "stability-api", "stabilityai", "stability_key"], r"sk-[A-Za-z0-9]{48}", "sk-%X48%", entropy=4)
ctx("azure-openai-api-key", "Azure OpenAI / Cognitive Services key", ["azure_openai", "azure-openai", "azureopenai", "cognitive_services",
    "ocp-apim-subscription-key"], r"[a-f0-9]{32}|[A-Za-z0-9]{84}", "%h32%", tp=["AZURE_OPENAI_API_KEY=%h32%",
    '"Ocp-Apim-Subscription-Key": "%h32%"'])

# ==================================================================================================
section("registry")

tok(
    "npm-access-token",
    "npm access token",
    r"\b(npm_[A-Za-z0-9]{36})\b",
    ["npm_"],
    ["//registry.npmjs.org/:_authToken=npm_%crc%", "NPM_TOKEN=npm_%crc%"],
    ["npm_%X20%", "npm_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"],
    verify="npm-crc32",
    tp_low=["NPM_TOKEN=npm_%X36%"],
)
tok(
    "npmrc-auth-token",
    "Registry auth token in .npmrc / .yarnrc.yml",
    r"""(?im)(?:(?:^|[\s:'"])(?:(_authToken)|(_auth)|(_password))\s{0,3}=|(npmAuthToken)\s{0,3}:)\s{0,3}['"]?([A-Za-z0-9+/_.=-]{20,200})""",
    ["_authtoken", "npmauthtoken", "_auth", "_password"],
    ["//npm.pkg.github.com/:_authToken=%uuid%", 'npmAuthToken: "%X40%"'],
    ["//registry.npmjs.org/:_authToken=${NPM_TOKEN}", "//registry.npmjs.org/:_authToken=xxxxxxxxxxxxxxxxxxxx",
     "let client_auth = cache_maybe_has_http_auth(req);", "    _auth = emit_certificate_request_tls13"],
    allowlists=[{"stopwords": PLACEHOLDER_STOPWORDS}, {"regexes": IDENTIFIER_REGEXES}],
    group=5,
)
tok(
    "pypi-upload-token",
    "PyPI / TestPyPI upload token",
    r"\b(" + alt(["pypi-AgEIcHlwaS5vcmc", "pypi-AgENdGVzdC5weXBpLm9yZw"])[0] + r"[A-Za-z0-9_-]{50,1000})" + END,
    ["pypi-ageichlwas5vcmc", "pypi-agendgvzdc5wexbplm9yzw"],
    ["password = pypi-AgEIcHlwaS5vcmc%u120%"],
    ["pypi-AgEIcHlwaS5vcmc%u20%", "pypi-AgEIcHlwaS5vcmX%u120%"],
)
tok(
    "rubygems-api-token",
    "RubyGems API key",
    r"\b(rubygems_[a-f0-9]{48})\b",
    ["rubygems_"],
    [":rubygems_api_key: rubygems_%h48%"],
    ["rubygems_%h20%", "rubygems_%U48%"],
)
tok(
    "nuget-api-key",
    "NuGet.org API key",
    r"\b(oy2[a-z0-9]{43})\b",
    ["oy2"],
    ["dotnet nuget push pkg.nupkg --api-key oy2%a43% --source nuget.org"],
    ["oy2%a20%", "oy3%a43%"],
)
tok(
    "nuget-config-password",
    "Clear-text password in NuGet.Config",
    r"""(?i)<add\s{1,5}key=["']ClearTextPassword["']\s{1,5}value=["']([^"'\s]{4,128})["']""",
    ["cleartextpassword"],
    ['<add key="ClearTextPassword" value="%P16%" />'],
    ['<add key="ClearTextPassword" value="%CI_JOB_TOKEN%" />', '<add key="Username" value="%P16%" />'],
    entropy=1.0,
    allowlists=[{"regexes": [r"^%[A-Za-z_][A-Za-z0-9_]*%$"], "stopwords": PLACEHOLDER_STOPWORDS}],
)
tok(
    "crates-io-api-token",
    "crates.io API token",
    r"\b(cio[a-zA-Z0-9]{32})\b",
    ["cio"],
    ["CARGO_REGISTRY_TOKEN=cio%X32%", '[registry]\ntoken = "cio%X32%"'],
    ["cio%X20%", "cio%X40%"],
)
tok(
    "dockerhub-pat",
    "Docker Hub personal / organization access token",
    r"\b(" + alt(["dckr_pat_", "dckr_oat_"])[0] + r"[A-Za-z0-9_-]{27})" + END,
    ["dckr_pat_", "dckr_oat_"],
    ["echo dckr_pat_%u27% | docker login -u me --password-stdin"],
    ["dckr_pat_%u10%", "dckr_xyz_%u27%"],
)
tok(
    "docker-config-auth",
    "Registry credentials in a Docker config.json",
    r"""(?i)"[a-z0-9.:/-]{1,100}"\s{0,3}:\s{0,3}\{\s{0,20}"auth"\s{0,3}:\s{0,3}"([A-Za-z0-9+/]{8,400}={0,2})\"""",
    ['"auth"'],
    ['{"auths": {"https://index.docker.io/v1/": {"auth": "%basic%"}}}',
     '{"https://index.docker.io/v1/": {"auth": "%basic%", "email": "ci@corp.io"}}'],
    ['{"auths": {"https://index.docker.io/v1/": {}}}', '{"auth": "%b40%="}'],
    confidence="medium",
    verify="base64-user-pass",
    tp_low=['{"auths": {"https://index.docker.io/v1/": {"auth": "%b40%="}}}'],
)
tok(
    "clojars-api-token",
    "Clojars deploy token",
    r"(?i)\b(CLOJARS_[a-z0-9]{60})\b",
    ["clojars_"],
    ["CLOJARS_PASSWORD=CLOJARS_%a60%"],
    ["CLOJARS_%a20%", "CLOJARS-%a60%"],
)
tok(
    "artifactory-api-key",
    "JFrog Artifactory API key",
    r"\b(AKCp[A-Za-z0-9]{69})\b",
    ["akcp"],
    ["ARTIFACTORY_API_KEY=AKCp%X69%"],
    ["AKCp%X30%", "AKCx%X69%"],
)
tok(
    "artifactory-reference-token",
    "JFrog Artifactory reference token",
    r"\b(cmVmdGtu[A-Za-z0-9]{56})\b",
    ["cmvmdgtu"],
    ["JFROG_ACCESS_TOKEN=cmVmdGtuOjAxOj%X50%"],
    ["cmVmdGtu%X20%", "cmVmdGtX%X56%"],
)
ctx("jfrog-api-key", "JFrog API key near 'jfrog' or 'artifactory'", ["jfrog", "artifactory"], r"[A-Za-z0-9]{73}", "%X73%",
    entropy=4, tp=["JFROG_API_KEY=%X73%"])
ctx("jfrog-identity-token", "JFrog identity token", ["jfrog", "artifactory"], r"[A-Za-z0-9]{64}", "%X64%", entropy=4,
    tp=["JFROG_IDENTITY_TOKEN=%X64%"])
ctx("gradle-publish-secret", "Gradle plugin portal publish secret", ["gradle.publish.secret", "gradle_publish_secret"],
    r"[A-Za-z0-9]{32}", "%X32%", entropy=3.5, tp=["gradle.publish.secret=%X32%"])
tok(
    "maven-settings-password",
    "Password in Maven settings.xml",
    r"(?i)<password>([^<>\s${}]{6,128})</password>",
    ["<password>"],
    ["<server><id>central</id><username>deploy</username><password>%P20%</password></server>"],
    ["<password>${env.MAVEN_PASSWORD}</password>", "<password>{%b44%=}</password>"],
    allowlists=[{"stopwords": PLACEHOLDER_STOPWORDS}],
)
tok(
    "hex-pm-api-key",
    "Hex.pm API key",
    r"(?i)\bHEX_API_KEY\s{0,3}[=:]\s{0,3}['\"]?([a-f0-9]{32})\b",
    ["hex_api_key"],
    ["HEX_API_KEY=%h32%"],
    ["HEX_API_KEY=%h20%", "HEX_API_KEY=$HEX_KEY"],
)
ctx("packagist-api-token", "Packagist API token", ["packagist"], r"[A-Za-z0-9]{20}", "%X20%", entropy=3.5)

# ==================================================================================================
section("saas")

ctx("adafruit-api-key", "Adafruit IO key", ["adafruit"], r"[a-z0-9_-]{32}", "%a32%", entropy=3.5)
tok(
    "adobe-client-secret",
    "Adobe OAuth client secret",
    r"\b(p8e-[A-Za-z0-9]{32})\b",
    ["p8e-"],
    ["ADOBE_CLIENT_SECRET=p8e-%X32%"],
    ["p8e-%X20%", "p8x-%X32%"],
)
ctx("airtable-api-key", "Airtable legacy API key", ["airtable"], r"key[A-Za-z0-9]{14}", "key%X14%", tp=["AIRTABLE_API_KEY=key%X14%"])
ctx("airtable-personnal-access-token", "Airtable personal access token", ["airtable"], r"pat[A-Za-z0-9]{14}\.[a-f0-9]{64}",
    "pat%X14%.%h64%", tp=["AIRTABLE_TOKEN=pat%X14%.%h64%"])
ctx("algolia-api-key", "Algolia admin API key", ["algolia"], r"[a-f0-9]{32}", "%h32%")
ctx("asana-client-secret", "Asana client secret", ["asana"], r"[a-z0-9]{32}", "%a32%", entropy=3.5, tp=["ASANA_CLIENT_SECRET=%a32%"])
ctx("asana-personal-access-token", "Asana personal access token", ["asana"], r"[0-9]/[0-9]{10,20}(?:/[0-9]{10,20})?:[a-f0-9]{32}",
    "2/%d16%/%d16%:%h32%", tp=["ASANA_PAT=2/%d16%/%d16%:%h32%"])
tok(
    "authress-service-client-access-key",
    "Authress service client access key",
    r"(?i)\b((?:sc|ext|scauth|authress)_[a-z0-9]{5,30}\.[a-z0-9]{4,6}\.(?:(acc_)|(acc-))[a-z0-9-]{10,32}\.[a-z0-9+/_=-]{30,120})" + END,
    ["acc_", "acc-"],
    ["AUTHRESS_KEY=sc_%a10%.%a5%.acc_%a20%.%b60%"],
    ["sc_%a10%.%a5%.acc_%a20%", "sc_%a10%.%a5%.xyz_%a20%.%b60%"],
    entropy=2,
)
ctx("beamer-api-token", "Beamer API key", ["beamer"], r"b_[A-Za-z0-9=_-]{44}", "b_%u44%", entropy=3.5)
ctx("cisco-meraki-api-key", "Cisco Meraki API key", ["meraki"], r"[0-9a-f]{40}", "%h40%")
ctx("contentful-delivery-api-token", "Contentful API token", ["contentful"], r"[A-Za-z0-9=_-]{43}", "%u43%", entropy=4)
ctx("datadog-access-token", "Datadog application key", ["datadog", "dd_app", "dd-app"], r"[a-f0-9]{40}", "%h40%",
    tp=["DD_APP_KEY=%h40%", "datadog_app_key: %h40%"])
ctx("datadog-api-key", "Datadog API key", ["datadog", "dd_api", "dd-api"], r"[a-f0-9]{32}", "%h32%",
    tp=["DD_API_KEY=%h32%", 'datadog_api_key = "%h32%"'])
tok(
    "dynatrace-api-token",
    "Dynatrace API token",
    r"\b(dt0c01\.[A-Z0-9]{24}\.[A-Z0-9]{64})\b",
    ["dt0c01."],
    ["DT_API_TOKEN=dt0c01.%A24%.%A64%"],
    ["dt0c01.%A24%.%A30%", "dt0c02.%A24%.%A64%"],
)
ctx("dropbox-api-token", "Dropbox API secret", ["dropbox"], r"[a-z0-9]{15}", "%a15%", tp=["DROPBOX_APP_SECRET=%a15%"])
ctx("dropbox-long-lived-api-token", "Dropbox long-lived API token", ["dropbox"], r"[a-z0-9]{11}(?:AAAAAAAAAA)[a-z0-9_=-]{43}",
    "%a11%AAAAAAAAAA%a43%", tp=["DROPBOX_TOKEN=%a11%AAAAAAAAAA%a43%"])
ctx("dropbox-short-lived-api-token", "Dropbox short-lived access token", ["dropbox"], r"sl\.[A-Za-z0-9_=-]{130,160}", "sl.%u135%",
    entropy=4, tp=["DROPBOX_ACCESS_TOKEN=sl.%u135%"])
ctx("etsy-access-token", "Etsy API key", ["etsy"], r"[a-z0-9]{24}", "%a24%", entropy=3.5,
    fp=["NtSetSystemInformation: pHalSetSystemInformation,"])
ctx("fastly-api-token", "Fastly API token", ["fastly"], r"[A-Za-z0-9_-]{32}", "%u32%", entropy=3.5)
ctx("finnhub-access-token", "Finnhub API token", ["finnhub"], r"[a-z0-9]{20}", "%a20%", entropy=3.0)
ctx("flickr-access-token", "Flickr API key", ["flickr"], r"[a-z0-9]{32}", "%a32%", entropy=3.5)
tok(
    "frameio-api-token",
    "Frame.io API token",
    r"\b(fio-u-[A-Za-z0-9_=-]{64})" + END,
    ["fio-u-"],
    ["FRAMEIO_TOKEN=fio-u-%u64%"],
    ["fio-u-%u30%", "fio-x-%u64%"],
)
ctx("freemius-secret-key", "Freemius secret key", ["freemius", "secret_key"], r"sk_[A-Za-z0-9!#$%&*+<>=?@^_|~-]{29}", "sk_%X29%",
    entropy=3.5, tp=["'secret_key' => 'sk_%X29%'", "FREEMIUS_SECRET=sk_%X29%"])
tok(
    "grafana-api-key",
    "Grafana API key (legacy)",
    r"\b(eyJrIjoi[A-Za-z0-9]{70,400}={0,3})" + END,
    ["eyjrijoi"],
    ["GRAFANA_API_KEY=eyJrIjoi%X80%=="],
    ["eyJrIjoi%X20%", "eyJxIjoi%X80%"],
)
tok(
    "grafana-cloud-api-token",
    "Grafana Cloud API token",
    r"\b(glc_[A-Za-z0-9+/]{32,400}={0,3})" + END,
    ["glc_"],
    ["GRAFANA_CLOUD_TOKEN=glc_%b100%="],
    ["glc_%b10%", "glx_%b100%"],
)
tok(
    "grafana-service-account-token",
    "Grafana service account token",
    r"\b(glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8})\b",
    ["glsa_"],
    ["GRAFANA_TOKEN=glsa_%X32%_%h8%"],
    ["glsa_%X32%", "glsa_%X20%_%h8%"],
)
tok(
    "intra42-client-secret",
    "42 intranet client secret",
    r"\b(s-s4t2(?:ud|af)-[a-f0-9]{64})\b",
    ["s-s4t2"],
    ["FT_SECRET=s-s4t2ud-%h64%"],
    ["s-s4t2ud-%h30%", "s-s4t2xx-%h64%"],
)
ctx("launchdarkly-access-token", "LaunchDarkly access token or SDK key", ["launchdarkly"], r"(?:api|sdk)-" + UUID, "api-%uuid%")
tok(
    "linear-api-key",
    "Linear API key",
    r"\b(lin_api_[A-Za-z0-9]{40})\b",
    ["lin_api_"],
    ["LINEAR_API_KEY=lin_api_%X40%"],
    ["lin_api_%X20%", "lin_oauth_%X40%"],
)
ctx("linear-client-secret", "Linear OAuth client secret", ["linear_client", "linear-client", "linear_oauth", "linear-oauth"], r"[a-f0-9]{32}", "%h32%")
ctx("looker-client-secret", "Looker API client secret", ["looker"], r"[A-Za-z0-9]{24}", "%X24%", entropy=3.5, tp=["LOOKER_CLIENT_SECRET=%X24%"])
tok(
    "mapbox-api-token",
    "Mapbox secret access token",
    r"\b(sk\.eyJ[A-Za-z0-9_-]{50,300}\.[A-Za-z0-9_-]{20,30})" + END,
    ["sk.eyj"],
    ["MAPBOX_DOWNLOADS_TOKEN=sk.eyJ1Ijoi%u60%.%u22%"],
    ["pk.eyJ1Ijoi%u60%.%u22%", "sk.eyJ1Ijoi%u10%.%u22%"],
)
tok(
    "maxmind-license-key",
    "MaxMind license key",
    r"\b([A-Za-z0-9]{6}_[A-Za-z0-9]{29}_mmk)\b",
    ["_mmk"],
    ["MAXMIND_LICENSE_KEY=%X6%_%X29%_mmk"],
    ["%X6%_%X20%_mmk", "%X6%_%X29%_mmx"],
)
tok(
    "new-relic-user-api-key",
    "New Relic user API key",
    r"\b(NRAK-[A-Z0-9]{27})\b",
    ["nrak-"],
    ["NEW_RELIC_API_KEY=NRAK-%A27%"],
    ["NRAK-%A20%", "NRAX-%A27%"],
)
ctx("new-relic-user-api-id", "New Relic user API ID", ["newrelic", "new_relic", "new-relic"], r"[A-Z0-9]{64}", "%A64%", entropy=4,
    tp=["NEW_RELIC_USER_ID=%A64%"])
tok(
    "new-relic-insert-key",
    "New Relic insights insert key",
    r"\b(NRII-[A-Za-z0-9_-]{32})" + END,
    ["nrii-"],
    ["NEW_RELIC_INSERT_KEY=NRII-%u32%"],
    ["NRII-%u20%", "NRIX-%u32%"],
)
tok(
    "new-relic-license-key",
    "New Relic ingest license key",
    r"\b([a-f0-9]{36}NRAL)\b",
    ["nral"],
    ["NEW_RELIC_LICENSE_KEY=%h36%NRAL"],
    ["%h30%NRAL", "%h36%NRAX"],
)
tok(
    "notion-api-token",
    "Notion integration token",
    r"\b(ntn_[0-9]{11}[A-Za-z0-9]{35})\b",
    ["ntn_"],
    ["NOTION_TOKEN=ntn_%d11%%X35%"],
    ["ntn_%d11%%X10%", "ntx_%d11%%X35%"],
)
ctx("nytimes-access-token", "New York Times API key", ["nytimes", "new-york-times", "newyorktimes"], r"[A-Za-z0-9=_-]{32}", "%u32%",
    entropy=3.5)
ctx("okta-access-token", "Okta API token", ["okta"], r"00[A-Za-z0-9=_-]{40}", "00%u40%", entropy=4)
tok(
    "postman-api-token",
    "Postman API key",
    r"\b(PMAK-[a-f0-9]{24}-[a-f0-9]{34})\b",
    ["pmak-"],
    ["POSTMAN_API_KEY=PMAK-%h24%-%h34%"],
    ["PMAK-%h24%", "PMAX-%h24%-%h34%"],
)
ctx("rapidapi-access-token", "RapidAPI key", ["rapidapi"], r"[A-Za-z0-9_-]{50}", "%u50%", entropy=4)
tok(
    "readme-api-token",
    "ReadMe API key",
    r"\b(rdme_[a-z0-9]{70})\b",
    ["rdme_"],
    ["README_API_KEY=rdme_%a70%"],
    ["rdme_%a30%", "rdmx_%a70%"],
)
ctx("sentry-access-token", "Sentry auth token (legacy)", ["sentry"], r"[a-f0-9]{64}", "%h64%")
tok(
    "sentry-user-token",
    "Sentry user auth token",
    r"\b(sntryu_[a-f0-9]{64})\b",
    ["sntryu_"],
    ["SENTRY_AUTH_TOKEN=sntryu_%h64%"],
    ["sntryu_%h30%", "sntryx_%h64%"],
)
tok(
    "sentry-org-token",
    "Sentry organization auth token",
    r"\b(sntrys_eyJpYXQiO[A-Za-z0-9+/=]{60,400}_[A-Za-z0-9+/]{43})" + END,
    ["sntrys_eyjpyxqio"],
    ["SENTRY_AUTH_TOKEN=sntrys_eyJpYXQiO%X120%_%b43%"],
    ["sntrys_eyJpYXQiO%X120%", "sntrys_eyJxxxxxO%X120%_%b43%"],
)
ctx("sumologic-access-token", "Sumo Logic access key", ["sumo_access", "sumo-access", "sumologic"], r"[A-Za-z0-9]{64}", "%X64%", entropy=4, tp=["SUMO_ACCESS_KEY=%X64%"])
ctx("twitch-api-token", "Twitch API token", ["twitch"], r"[a-z0-9]{30}", "%a30%", entropy=3.5)
tok(
    "typeform-api-token",
    "Typeform personal access token",
    r"\b(tfp_[A-Za-z0-9_=.-]{59})" + END,
    ["tfp_"],
    ["TYPEFORM_TOKEN=tfp_%u59%"],
    ["tfp_%u20%", "tfx_%u59%"],
)
tok(
    "yandex-api-key",
    "Yandex Cloud API key",
    r"\b(AQVN[A-Za-z0-9_-]{35,38})" + END,
    ["aqvn"],
    ["YC_API_KEY=AQVN%u36%"],
    ["AQVN%u20%", "AQVX%u36%"],
)
ctx("yandex-aws-access-token", "Yandex Cloud static access key ID", ["yandex"], r"YC[A-Za-z0-9_-]{38}", "YC%u38%", entropy=3.5)
ctx("yandex-access-token", "Yandex Cloud IAM token", ["yandex"], r"t1\.[A-Za-z0-9_-]{1,200}={0,2}\.[A-Za-z0-9_-]{86}={0,2}",
    "t1.%u100%.%u86%", entropy=4, tp=["YANDEX_IAM_TOKEN=t1.%u100%.%u86%"])
tok(
    "posthog-personal-api-key",
    "PostHog personal API key",
    r"\b(phx_[A-Za-z0-9]{43})\b",
    ["phx_"],
    ["POSTHOG_PERSONAL_API_KEY=phx_%X43%"],
    ["phc_%X43%", "phx_%X20%"],
)
tok(
    "figma-personal-access-token",
    "Figma personal access token",
    r"\b(figd_[A-Za-z0-9_-]{40})" + END,
    ["figd_"],
    ["FIGMA_TOKEN=figd_%u40%"],
    ["figd_%u20%", "figx_%u40%"],
)
tok(
    "honeybadger-api-key",
    "Honeybadger personal auth token",
    r"\b(hbp_[A-Za-z0-9]{36})\b",
    ["hbp_"],
    ["HONEYBADGER_PERSONAL_AUTH_TOKEN=hbp_%X36%"],
    ["hbp_%X20%", "hbx_%X36%"],
)
tok(
    "render-api-key",
    "Render API key",
    r"\b(rnd_[A-Za-z0-9]{32})\b",
    ["rnd_"],
    ["RENDER_API_KEY=rnd_%X32%"],
    ["rnd_%X16%", "rnx_%X32%"],
)
tok(
    "clickup-api-token",
    "ClickUp personal API token",
    r"\b(pk_[0-9]{6,10}_[A-Z0-9]{32})\b",
    ["pk_"],
    ["CLICKUP_TOKEN=pk_%d8%_%A32%"],
    ["pk_%d8%_%A20%", "pk_live_%A32%"],
)
ctx("trello-api-token", "Trello API token", ["trello"], r"(?:ATTA)?[a-f0-9]{64}", "%h64%")
ctx("rollbar-access-token", "Rollbar access token", ["rollbar"], r"[a-f0-9]{32}", "%h32%")
ctx("bugsnag-api-key", "Bugsnag API key", ["bugsnag"], r"[a-f0-9]{32}", "%h32%")
ctx("auth0-client-secret", "Auth0 client secret", ["auth0"], r"[A-Za-z0-9_-]{64}", "%u64%", entropy=4)
tok(
    "stytch-secret",
    "Stytch project secret",
    r"\b(" + alt(["secret-live-", "secret-test-"])[0] + r"[A-Za-z0-9_=-]{36})" + END,
    ["secret-live-", "secret-test-"],
    ["STYTCH_SECRET=secret-test-%u36%"],
    ["secret-test-%u12%", "secret-prod-%u36%"],
)
ctx("onelogin-client-secret", "OneLogin API client secret", ["onelogin"], r"[a-f0-9]{64}", "%h64%")
tok(
    "sidekiq-secret",
    "Sidekiq Enterprise / Pro gem credentials",
    r"(?i)\b(?:(BUNDLE_ENTERPRISE__CONTRIBSYS__COM)|(BUNDLE_GEMS__CONTRIBSYS__COM))\s{0,3}[=:]\s{0,3}['\"]?([a-f0-9]{8}:[a-f0-9]{8})\b",
    ["bundle_enterprise__contribsys__com", "bundle_gems__contribsys__com"],
    ["BUNDLE_ENTERPRISE__CONTRIBSYS__COM=%h8%:%h8%"],
    ["BUNDLE_ENTERPRISE__CONTRIBSYS__COM=%h8%", "BUNDLE_GEMS__EXAMPLE__COM=%h8%:%h8%"],
    entropy=2,
    group=3,
)
tok(
    "sidekiq-sensitive-url",
    "Sidekiq gem server URL with credentials",
    r"(?i)\bhttps?://([a-f0-9]{8}:[a-f0-9]{8})@(?:gems|enterprise)\.contribsys\.com\b",
    ["contribsys.com"],
    ["source 'https://%h8%:%h8%@gems.contribsys.com/'"],
    ["source 'https://gems.contribsys.com/'", "https://%h8%:%h8%@gems.example.com/"],
    entropy=2,
)

# ==================================================================================================
section("social")

tok(
    "twitter-bearer-token",
    "X (Twitter) API bearer token",
    r"\b(" + "A" * 22 + r"[A-Za-z0-9%]{80,120})" + END,
    ["aaaaaaaaaaaaaaaaaaaaaa"],
    ["TWITTER_BEARER_TOKEN=" + "A" * 22 + "%X90%"],
    ["AAAAAAAAAAAAAAAAAAAAAA%X20%", "AAAAAAAAAAAAAAAAAAAAAA"],
    entropy=3.5,
)
ctx("twitter-api-key", "X (Twitter) API key", ["twitter"], r"[A-Za-z0-9]{25}", "%X25%", entropy=3.5, tp=["TWITTER_API_KEY=%X25%"])
ctx("twitter-api-secret", "X (Twitter) API secret", ["twitter"], r"[A-Za-z0-9]{50}", "%X50%", entropy=4, tp=["TWITTER_API_SECRET=%X50%"])
ctx("twitter-access-token", "X (Twitter) access token", ["twitter"], r"[0-9]{15,25}-[A-Za-z0-9]{20,40}", "%d19%-%X30%", entropy=3.5,
    tp=["TWITTER_ACCESS_TOKEN=%d19%-%X30%"])
ctx("twitter-access-secret", "X (Twitter) access token secret", ["twitter"], r"[A-Za-z0-9]{45}", "%X45%", entropy=4,
    tp=["TWITTER_ACCESS_SECRET=%X45%"])
tok(
    "facebook-access-token",
    "Facebook / Meta Graph API access token",
    r"\b(EAA[A-Z][A-Za-z0-9]{90,400})\b",
    ["eaa"],
    ["FB_ACCESS_TOKEN=EAAB%X150%", "access_token=EAAG%X120%"],
    ["EAAB%X40%", "EAAb%X150%"],
    entropy=4,
)
ctx("facebook-page-access-token", "Facebook page access token near 'facebook'", ["facebook", "fb_page", "fb-page"],
    r"EAA[A-Za-z0-9]{90,400}", "EAAG%X120%", entropy=4, tp=["FB_PAGE_ACCESS_TOKEN=EAAG%X120%"])
ctx("facebook-secret", "Facebook app secret", ["facebook", "fb_app", "fb-app"], r"[a-f0-9]{32}", "%h32%", tp=["FACEBOOK_APP_SECRET=%h32%"])
ctx("linkedin-client-secret", "LinkedIn client secret", ["linkedin", "linked_in", "linked-in"], r"[A-Za-z0-9]{16}", "%X16%", entropy=3.5,
    tp=["LINKEDIN_CLIENT_SECRET=%X16%"])
# ==================================================================================================
section("database")

_PW = r"""[^\s'"@/:?#\[\]{}$<>\x60]{4,128}"""
_USER = r"[A-Za-z0-9._%+~-]{0,64}"
_DB_ALLOW = [
    {
        "description": "placeholder passwords",
        "stopwords": ["password", "passwd", "changeme", "example", "placeholder", "secret", "xxxx", "****", "dummy", "redacted",
                      "opensesame", "foobar"],
    },
    {"description": "documentation and test hosts", "regexTarget": "match", "regexes": [EXAMPLE_HOSTS]},
    {"description": "password taken from the environment", "regexes": [r"^%[A-Za-z_]+%$", r"^\*+$"]},
]


def uri(id, description, schemes, keywords, tp_scheme, port=5432):
    if isinstance(schemes, list):
        pat, groups = alt(schemes)
    else:
        pat, groups = "(?:" + schemes + ")", 0
    regex = r"(?i)\b" + pat + r"://" + _USER + r":(" + _PW + r")@[A-Za-z0-9._%-]{1,253}"
    add(
        id,
        description,
        regex,
        keywords,
        [f"DATABASE_URL={tp_scheme}://app:%X20%@db.internal:{port}/prod", f'url = "{tp_scheme}://admin:%P16%@10.0.0.5"'],
        [
            f"DATABASE_URL={tp_scheme}://app@db.internal:{port}/prod",
            f"DATABASE_URL={tp_scheme}://user:password@localhost:{port}/db",
            f"DATABASE_URL={tp_scheme}://app:${{DB_PASSWORD}}@db:{port}/prod",
        ],
        entropy=2.0,
        group=groups + 1,
        allowlists=_DB_ALLOW,
        confidence="medium",
        verify="password-strength",
        tp_low=[f"DATABASE_URL={tp_scheme}://app:app2024@db.internal:{port}/prod"],
    )


uri("postgres-connection-uri", "PostgreSQL connection URI with a password", r"postgres(?:ql)?(?:\+[a-z0-9]{1,20})?", ["postgres"], "postgresql")
uri("mysql-connection-uri", "MySQL / MariaDB connection URI with a password", [r"mysql(?:x)?(?:\+[a-z0-9]{1,20})?", r"mariadb(?:\+[a-z0-9]{1,20})?"],
    ["mysql", "mariadb"], "mysql", 3306)
uri("mongodb-connection-uri", "MongoDB connection URI with a password", r"mongodb(?:\+srv)?", ["mongodb"], "mongodb+srv", 27017)
uri("redis-connection-uri", "Redis / Valkey connection URI with a password", r"rediss?|valkeys?", ["redis", "valkey"], "rediss", 6379)
uri("amqp-connection-uri", "AMQP (RabbitMQ) connection URI with a password", r"amqps?", ["amqp"], "amqps", 5672)
uri("mssql-connection-uri", "SQL Server connection URI with a password", r"sqlserver|mssql(?:\+[a-z0-9]{1,20})?", ["sqlserver", "mssql"],
    "mssql", 1433)
uri("clickhouse-connection-uri", "ClickHouse connection URI with a password", r"clickhouse(?:\+[a-z0-9]{1,20})?", ["clickhouse"],
    "clickhouse", 9000)
uri("cockroachdb-connection-uri", "CockroachDB connection URI with a password", r"cockroachdb", ["cockroachdb"], "cockroachdb", 26257)
uri("neo4j-connection-uri", "Neo4j / Bolt connection URI with a password", r"neo4j(?:\+s|\+ssc)?|bolt(?:\+s|\+ssc)?", ["neo4j", "bolt"],
    "neo4j", 7687)
uri("ldap-bind-uri", "LDAP URI with bind credentials", r"ldaps?", ["ldap"], "ldaps", 636)
uri("ftp-credentials-uri", "FTP / SFTP URI with a password", r"s?ftps?", ["ftp"], "sftp", 22)
uri("smtp-credentials-uri", "SMTP URI with a password", r"smtps?", ["smtp"], "smtps", 465)
uri("mqtt-connection-uri", "MQTT broker URI with a password", r"mqtts?", ["mqtt"], "mqtts", 8883)
uri("nats-connection-uri", "NATS URI with a password", r"nats", ["nats"], "nats", 4222)
uri("kafka-connection-uri", "Kafka URI with SASL credentials", r"kafka(?:\+ssl)?", ["kafka"], "kafka", 9092)
uri("couchdb-connection-uri", "CouchDB URI with a password", r"couchdb(?:s)?", ["couchdb"], "couchdbs", 5984)
uri("cassandra-connection-uri", "Cassandra / ScyllaDB URI with a password", r"cassandra|scylla", ["cassandra", "scylla"], "cassandra", 9042)
uri("influxdb-connection-uri", "InfluxDB URI with a password", r"influxdb", ["influxdb"], "influxdb", 8086)
uri("elasticsearch-connection-uri", "Elasticsearch / OpenSearch URI with a password", r"elasticsearch|opensearch|es\+https?",
    ["elasticsearch", "opensearch", "es+http"], "elasticsearch", 9200)
tok(
    "jdbc-connection-password",
    "JDBC URL with a password parameter",
    r"(?i)\b(jdbc:[a-z0-9:]{2,30}[^\s'\"\x60]{0,200}?[;?&](?:password|pwd)=([^\s;&'\"\x60${}]{3,128}))",
    ["jdbc:"],
    ["spring.datasource.url=jdbc:sqlserver://db:1433;databaseName=app;user=sa;password=%P16%"],
    ["spring.datasource.url=jdbc:postgresql://db:5432/app", "jdbc:mysql://db/app?user=app&password=${DB_PASSWORD}"],
    entropy=1.5,
    group=2,
    allowlists=_DB_ALLOW,
    confidence="medium",
    verify="password-strength",
)
tok(
    "ado-net-connection-string-password",
    "ADO.NET / ODBC connection string with a password",
    r"(?i)\b(?:server|data source|host|address|addr)\s{0,3}=\s{0,3}[^;'\"\n]{1,100};[^'\"\n]{0,200}?\b(?:(password)|(pwd))\s{0,3}=\s{0,3}([^;'\"\s${}]{3,128})",
    ["password", "pwd"],
    ['"DefaultConnection": "Server=tcp:sql.internal,1433;Initial Catalog=app;User ID=app;Password=%P16%;Encrypt=True"'],
    ['"DefaultConnection": "Server=sql.internal;Database=app;Integrated Security=True"', "Server=db;User Id=sa;Password=${SA_PASSWORD};"],
    entropy=1.5,
    group=3,
    allowlists=_DB_ALLOW,
    confidence="medium",
    verify="password-strength",
)
tok(
    "http-basic-auth-url",
    "HTTP(S) URL with embedded user:password credentials",
    r"(?i)\b(?:(http://)|(https://))[A-Za-z0-9._%+~-]{1,64}:([^\s'\"@/:?#\[\]{}$<>\x60]{3,128})@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}",
    ["http://", "https://"],
    ["pip install --index-url https://deploy:%X20%@pypi.corp.internal.net/simple pkg", "ES_URL=https://elastic:%P16%@es.corp.io:9200"],
    ["https://user:password@example.com", "https://%u8%@github.com/org/repo.git", "https://github.com/org/repo",
     "http://user:%X12%@www.example.com/", "http://Aladdin:opensesame@proxy.corp"],
    entropy=2.5,
    group=3,
    allowlists=_DB_ALLOW,
    confidence="medium",
    verify="password-strength",
)

# ==================================================================================================
section("key")

tok(
    "private-key",
    "Private key (PEM, OpenSSH, PGP)",
    r"(?i)(-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----[\s\S]{64,}?-----END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----)",
    ["-----begin"],
    [
        "-----BEGIN RSA PRIVATE KEY-----\n%der%\n-----END RSA PRIVATE KEY-----\n",
        '"private_key": "-----BEGIN PRIVATE KEY-----\\n%der%\\n-----END PRIVATE KEY-----\\n"',
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA%b46%\n%b70%\n-----END OPENSSH PRIVATE KEY-----",
        "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBF%b58%\n%b64%\n=%b4%\n-----END PGP PRIVATE KEY BLOCK-----",
    ],
    [
        "-----BEGIN PUBLIC KEY-----\nMIIBIj%b58%\n%b64%\n-----END PUBLIC KEY-----",
        "-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----",
        "-----BEGIN CERTIFICATE-----\nMIID%b60%\n%b64%\n-----END CERTIFICATE-----",
    ],
    entropy=None,
    verify="private-key",
    tp_low=["-----BEGIN RSA PRIVATE KEY-----\nMIIEow%b58%\n%b64%\n%b64%\n-----END RSA PRIVATE KEY-----\n"],
)
tok(
    "putty-private-key",
    "PuTTY private key file (.ppk)",
    r"(?i)(PuTTY-User-Key-File-[23]: [a-z0-9-]{3,30}[\s\S]{0,1000}?Private-Lines: \d{1,3}\s{1,2}[A-Za-z0-9+/=\s]{40,1000}?Private-MAC: [a-f0-9]{40,64})",
    ["putty-user-key-file-"],
    ["PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: ed25519-key\nPublic-Lines: 2\n%b64%\n%b4%\nPrivate-Lines: 1\n%b43%=\nPrivate-MAC: %h64%\n"],
    ["PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nPublic-Lines: 2\n%b64%\n", "PuTTY-User-Key-File-3: ssh-ed25519"],
    entropy=None,
)
tok(
    "age-secret-key",
    "age encryption secret key",
    r"\b(AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58})\b",
    ["age-secret-key-1"],
    ["AGE-SECRET-KEY-1%c58%"],
    ["AGE-SECRET-KEY-1QPZRY9X8GF2TVDW0S3JN54KHCE", "AGE-SECRET-KEY-1BIOBIOBIOBIOBIOBIOBIOBIOBIOBIOBIOBIOBIOBIOBIOBIOBIOBIOBIOBIOB"],
)
tok(
    "1password-secret-key",
    "1Password account secret key",
    r"\b(A3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5})\b",
    ["a3-"],
    ["OP_SECRET_KEY=A3-%A6%-%A11%-%A5%-%A5%-%A5%"],
    ["A3-%A6%-%A11%-%A5%", "A4-%A6%-%A11%-%A5%-%A5%-%A5%"],
)
tok(
    "1password-service-account-token",
    "1Password service account token",
    r"\b(ops_eyJ[A-Za-z0-9+/]{250,1000}={0,3})",
    ["ops_eyj"],
    ["OP_SERVICE_ACCOUNT_TOKEN=ops_eyJ%b300%="],
    ["ops_eyJ%b50%", "ops_xyz%b300%"],
    entropy=4,
)
tok(
    "jwt-signing-secret",
    "JWT / session signing secret assignment",
    r"(?i)\b(?:jwt[_.-]?secret|jwt[_.-]?signing[_.-]?key|secret[_.-]?key[_.-]?base|session[_.-]?secret|django[_.-]?secret[_.-]?key|flask[_.-]?secret[_.-]?key|nextauth[_.-]?secret|app[_.-]?secret[_.-]?key)[ \t'\"\x60\]]{0,3}(?:=|:=|=>|:)[ \t'\"\x60]{0,5}([^\s'\"\x60;,$<>{}()\[\]]{16,128})",
    ["jwt", "secret"],
    ["JWT_SECRET=%P40%", "SECRET_KEY_BASE=%h128%", "DJANGO_SECRET_KEY='%P50%'"],
    ["JWT_SECRET=${JWT_SECRET}", "SECRET_KEY_BASE=changeme-changeme-changeme", "JWT_SECRET=short",
     'SECRET_KEY_BASE = "action_dispatch.secret_key_base"', "config.secret_key_base = Rails.application.credentials.secret_key_base",
     "SESSION_SECRET=session_secret_from_vault_path"],
    entropy=3.2,
    group=1,
    allowlists=[{"stopwords": PLACEHOLDER_STOPWORDS + ["your"]}, {"description": "identifiers and references", "regexes": CODE_VALUE_REGEXES}],
    confidence="medium",
    verify="secret-shape",
)
add(
    "pkcs12-file",
    "PKCS#12 key store file (.p12 / .pfx)",
    path=r"(?i)(?:^|/)[^/]+\.(?:p12|pfx)$",
    tags=["key", "file"],
    tp_paths=["certs/server.p12", "deploy/signing.PFX"],
    fp_paths=["certs/server.pem", "docs/p12.md", "notes.p12.txt"],
)
add(
    "java-keystore-file",
    "Java key store file (.jks / .keystore)",
    path=r"(?i)(?:^|/)[^/]+\.(?:jks|keystore|bks)$",
    tags=["key", "file"],
    tp_paths=["android/app/release.keystore", "config/truststore.jks"],
    fp_paths=["android/app/keystore.properties", "jks.md"],
)
add(
    "keepass-database-file",
    "KeePass password database (.kdbx)",
    path=r"(?i)(?:^|/)[^/]+\.kdbx?$",
    tags=["key", "file"],
    tp_paths=["secrets/team.kdbx"],
    fp_paths=["docs/kdbx-format.md"],
)
add(
    "ssh-private-key-file",
    "SSH private key file by name",
    path=r"(?:^|/)id_(?:rsa|dsa|ecdsa|ed25519)(?:_sk)?$",
    tags=["key", "file"],
    tp_paths=["home/.ssh/id_ed25519", "id_rsa"],
    fp_paths=["home/.ssh/id_ed25519.pub", "docs/id_rsa.md"],
)

# ==================================================================================================
section("credfile")

_CRED = ["credential-file"]
_PW_ALLOW = [
    {
        "description": "placeholders and references",
        "stopwords": PLACEHOLDER_STOPWORDS + ["password_here", "your_password", "yourpassword", "<password>", "********"],
        "regexes": [r"^\$", r"^%[A-Za-z_]+%$", r"^\*+$", r"^\{\{"],
    },
]


def cred(id, description, regex, keywords, tp, fp, group=1, verify="password-strength", tp_low=(), confidence="medium",
         tags=None, allowlists=None, **kw):
    """A password or key in a credential file or configuration format."""
    add(id, description, regex, keywords, tp, fp, group=group, tags=tags or _CRED,
        allowlists=_PW_ALLOW if allowlists is None else allowlists, confidence=confidence, verify=verify,
        tp_low=tp_low, **kw)


cred(
    "netrc-password",
    "Password in a .netrc / _netrc file",
    r"(?i)\bmachine[ \t\r\n]{1,10}[A-Za-z0-9._-]{1,253}(?:[ \t\r\n]{1,10}(?:login|account)[ \t\r\n]{1,10}[^\s]{1,128}){0,2}[ \t\r\n]{1,10}password[ \t\r\n]{1,10}([^\s]{3,128})",
    ["machine"],
    ["machine api.heroku.com\n  login ops@corp.io\n  password %X32%\n", "machine ftp.corp.internal login deploy password %P14%"],
    ["machine api.heroku.com login ops@corp.io", "the build machine password is rotated weekly"],
    tp_low=["machine db.internal login app password hunter22"],
)
cred(
    "pgpass-password",
    "Password in a PostgreSQL .pgpass file",
    r"(?m)^[A-Za-z0-9.*_-]{1,253}(?:(:5432:)|(:5433:)|(:\*:))[A-Za-z0-9_*.-]{1,63}:[A-Za-z0-9_*.@-]{1,63}:([^\s:]{3,128})$",
    [":5432:", ":5433:", ":*:"],
    ["db.internal:5432:appdb:app:%P16%", "*:*:*:replicator:%X20%"],
    ["db.internal:5432:appdb:app", "localhost:5432:*:postgres:*"],
    group=4,
    tp_low=["localhost:5432:app:app:app2024"],
)
cred(
    "mysql-cnf-password",
    "Password in a MySQL option file (.my.cnf)",
    r"(?i)(?:(\[client\])|(\[mysql[a-z]{0,10}\]))[^\[]{0,300}?\bpassword[ \t]{0,3}=[ \t]{0,3}[\"']?([^\s\"'#]{3,128})",
    ["[client]", "[mysql"],
    ["[client]\nuser=root\npassword=%P16%\nhost=db.internal\n", "[mysqldump]\nuser = backup\npassword = \"%X20%\"\n"],
    ["[client]\nuser=root\nsocket=/var/run/mysqld/mysqld.sock\n", "[client]\npassword=\nhost=db\n"],
    group=3,
    tp_low=["[client]\nuser=root\npassword=root123\n"],
)
cred(
    "pypirc-password",
    "Password in a .pypirc file",
    r"(?i)(?:(\[pypi\])|(\[testpypi\])|(\[server-login\]))[^\[]{0,300}?\bpassword[ \t]{0,3}[=:][ \t]{0,3}([^\s]{3,128})",
    ["[pypi]", "[testpypi]", "[server-login]"],
    ["[distutils]\nindex-servers = pypi\n\n[pypi]\nusername = jdoe\npassword = %P18%\n"],
    ["[pypi]\nusername = __token__\n", "[pypi]\nusername = jdoe\npassword = ${PYPI_PASSWORD}\n"],
    group=4,
)
cred(
    "kubeconfig-client-key-data",
    "Client private key embedded in a kubeconfig",
    r"(?i)\bclient-key-data:[ \t]{0,3}[\"']?(LS0tLS1CRUdJTi[A-Za-z0-9+/]{40,1000}={0,2})",
    ["client-key-data"],
    ["users:\n- name: admin\n  user:\n    client-certificate-data: LS0tLS1CRUdJTiBDRVJU%b60%\n    client-key-data: LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQo%b200%\n"],
    ["    client-key-data: REDACTED", "    client-key-data: ${CLIENT_KEY}"],
    verify=None,
    confidence="high",
    tags=["key"],
)
cred(
    "kubeconfig-user-token",
    "Bearer token of a kubeconfig user",
    r"(?i)\buser:[ \t]{0,3}\r?\n[ \t]{1,20}token:[ \t]{0,3}[\"']?([A-Za-z0-9._~+/=-]{20,1000})",
    ["user:"],
    ["users:\n- name: ci\n  user:\n    token: %a6%.%a16%\n", "  user:\n    token: \"%u64%\"\n"],
    ["  user:\n    token: ${KUBE_TOKEN}\n", "  user:\n    tokenFile: /var/run/secrets/token\n"],
    verify="secret-shape",
)
_CRYPT_ALLOW = [{"description": "documentation hashes", "stopwords": ["example", "xxxxxxxx"]}]
cred(
    "bcrypt-password-hash",
    "bcrypt password hash (htpasswd, shadow, SQL dumps, fixtures)",
    r"(?:^|[\s\"'(,:=\x60])((?:(\$2a\$)|(\$2b\$)|(\$2y\$)|(\$2x\$))[0-9]{2}\$[./A-Za-z0-9]{53})",
    ["$2a$", "$2b$", "$2y$", "$2x$"],
    ["admin:$2y$10$%b53%".replace("+", "."), "INSERT INTO users (id, email, password) VALUES (1, 'a@b.io', '$2b$12$%X53%');"],
    ["$2y$10$short", "$2y$1$%X53%"],
    verify=None,
    tags=["password-hash"],
    allowlists=_CRYPT_ALLOW,
)
cred(
    "sha-crypt-password-hash",
    "SHA-256 / SHA-512 crypt password hash (shadow, htpasswd)",
    r"(?:^|[\s\"'(,:=\x60])((?:(\$6\$)|(\$5\$))(?:rounds=[0-9]{1,9}\$)?[./A-Za-z0-9]{1,16}\$[./A-Za-z0-9]{43,86})(?:[:\s\"',)]|$)",
    ["$6$", "$5$"],
    ["root:$6$%X16%$%X86%:19000:0:99999:7:::", "deploy:$5$rounds=5000$%X8%$%X43%:19000::::::"],
    ["root:*:19000:0:99999:7:::", "price is $6$ per item"],
    verify=None,
    tags=["password-hash"],
    allowlists=_CRYPT_ALLOW,
)
cred(
    "md5-crypt-password-hash",
    "MD5 / Apache apr1 crypt password hash (htpasswd, shadow)",
    r"(?:^|[\s\"'(,:=\x60])((?:(\$apr1\$)|(\$1\$))[./A-Za-z0-9]{1,8}\$[./A-Za-z0-9]{22})(?:[:\s\"',)]|$)",
    ["$apr1$", "$1$"],
    ["jdoe:$apr1$%X8%$%X22%", "root:$1$%X8%$%X22%:18000:0:99999:7:::"],
    ["jdoe:$apr1$%X8%$%X10%", "echo $1$2"],
    verify=None,
    tags=["password-hash"],
    allowlists=_CRYPT_ALLOW,
)
cred(
    "yescrypt-password-hash",
    "yescrypt password hash (modern /etc/shadow)",
    r"(?:^|[\s\"'(,:=\x60])(\$y\$[./A-Za-z0-9]{1,16}\$[./A-Za-z0-9]{1,86}\$[./A-Za-z0-9]{43})(?:[:\s\"',)]|$)",
    ["$y$"],
    ["alice:$y$j9T$%X22%$%X43%:19500:0:99999:7:::"],
    ["alice:!:19500:0:99999:7:::", "alice:$y$j9T$%X22%$%X20%:19500::::::"],
    verify=None,
    tags=["password-hash"],
    allowlists=_CRYPT_ALLOW,
)
cred(
    "sql-insert-password-hash",
    "Password hash in an SQL INSERT (database dump)",
    r"(?i)\binsert[ \t]{1,5}into[ \t]{1,5}[\x60\"'\[]?[\w.]{1,64}[\x60\"'\]]?[ \t]{0,5}\([^)]{0,300}?pass(?:word|wd)?(?:_hash|_digest)?[\x60\"'\]]?[^)]{0,300}\)[ \t]{0,5}values[ \t]{0,5}\([^)]{0,500}?'([0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64}|[0-9a-f]{128}|\{SSHA\}[A-Za-z0-9+/=]{20,80})\x27",
    ["insert"],
    ["INSERT INTO `users` (`id`, `login`, `password`) VALUES (1, 'admin', '%h32%');",
     "insert into accounts (name, passwd) values ('ops', '%h64%');"],
    ["INSERT INTO `users` (`id`, `login`) VALUES (1, 'admin');", "INSERT INTO t (password) VALUES ('');"],
    verify=None,
    tags=["password-hash"],
    allowlists=[],
)
cred(
    "filezilla-password",
    "Saved password in a FileZilla sitemanager.xml / recentservers.xml",
    r"(?i)<Pass(?:[ \t]{1,3}encoding=\"base64\")?>([^<\s]{3,256})</Pass>",
    ["<pass"],
    ['<Server><Host>ftp.corp.io</Host><User>deploy</User><Pass encoding="base64">%b24%</Pass></Server>', "<Pass>%P14%</Pass>"],
    ["<Pass></Pass>", "<Password>%P14%</Password>"],
    verify=None,
)
cred(
    "winscp-password",
    "Saved session password in WinSCP.ini",
    r"(?i)\[Sessions\\[^\]\r\n]{1,200}\][^\[]{0,1000}?\bPassword=([A-F0-9]{16,512})\b",
    ["[sessions\\"],
    ["[Sessions\\deploy@ftp.corp.io]\nHostName=ftp.corp.io\nUserName=deploy\nPassword=%H64%\n"],
    ["[Sessions\\deploy@ftp.corp.io]\nHostName=ftp.corp.io\nUserName=deploy\n", "[Configuration]\nPassword=%H64%\n"],
    verify=None,
)
cred(
    "jetbrains-webservers-password",
    "Deployment password in a JetBrains WebServers.xml",
    r"(?i)<fileTransfer\b[^>]{0,500}?\bpassword=\"([^\"]{4,256})\"",
    ["<filetransfer"],
    ['<fileTransfer host="ftp.corp.io" port="21" rootFolder="/www" accessType="FTP" password="%h40%" username="deploy" />'],
    ['<fileTransfer host="ftp.corp.io" port="21" accessType="SFTP" keyPair="true" username="deploy" />'],
    verify=None,
)
cred(
    "sftp-config-password",
    "Password in an editor SFTP / FTP deployment config (Sublime, VS Code, Atom)",
    r"(?i)\"(?:(type)|(protocol))\"[ \t]{0,3}:[ \t]{0,3}\"s?ftps?\"[\s\S]{0,600}?\"(?:(password)|(pass))\"[ \t]{0,3}:[ \t]{0,3}\"([^\"]{3,256})\"",
    ['"type"', '"protocol"'],
    ['{\n    "type": "sftp",\n    "host": "ftp.corp.io",\n    "user": "deploy",\n    "password": "%P16%",\n    "remote_path": "/var/www/"\n}',
     '{"protocol": "ftp", "host": "ftp.corp.io", "user": "deploy", "pass": "%X14%"}'],
    ['{"type": "sftp", "host": "ftp.corp.io", "user": "deploy", "ssh_key_file": "~/.ssh/id_rsa"}', '{"protocol": "ftp", "pass": ""}'],
    group=5,
)
cred(
    "firefox-logins-encrypted-password",
    "Encrypted password of a Firefox logins.json",
    r"\"encryptedPassword\"[ \t]{0,3}:[ \t]{0,3}\"(M[A-Za-z0-9+/]{20,1000}={0,2})\"",
    ["encryptedpassword"],
    ['{"hostname":"https://intranet.corp.io","encryptedUsername":"MDIEEPgAAAAAAAAAAAAAAAAAAAEwFAYIKoZIhvcNAwcECO%b20%","encryptedPassword":"MDoEEPgAAAAAAAAAAAAAAAAAAAEwFAYIKoZIhvcNAwcECL%b28%"}'],
    ['"encryptedPassword":""', '"encryptedPassword": "%X10%"'],
    verify=None,
)
cred(
    "spring-datasource-password",
    "Password in a Spring / Java application.properties",
    r"(?i)\b(?:spring|datasource|mail|rabbitmq|redis|ldap|jdbc|db|database|hibernate|flyway|liquibase)\.[\w.-]{0,60}?password[ \t]{0,3}[=:][ \t]{0,3}([^\s$'\"{}]{3,128})",
    ["spring.", "datasource.", "mail.", "rabbitmq.", "redis.", "ldap.", "jdbc.", "db.", "database.",
     "hibernate.", "flyway.", "liquibase."],
    ["spring.datasource.password=%P14%", "spring.mail.password: %X16%"],
    ["spring.datasource.password=${DB_PASSWORD}", "spring.datasource.password="],
    example_path="src/main/resources/application.properties",
    tp_low=["spring.datasource.password=admin1"],
)
cred(
    "rails-master-key",
    "Rails master key",
    r"(?i)\bRAILS_MASTER_KEY[ \t'\"]{0,3}[=:][ \t'\"]{0,3}([0-9a-f]{32})\b",
    ["rails_master_key"],
    ["RAILS_MASTER_KEY=%h32%"],
    ["RAILS_MASTER_KEY=${RAILS_MASTER_KEY}", "RAILS_MASTER_KEY=%h16%"],
    verify=None,
    confidence="high",
)
add(
    "rails-master-key-file",
    "Rails master / credentials key file",
    path=r"(?:^|/)config/(?:master|credentials/[A-Za-z0-9_-]{1,40})\.key$",
    tags=["key", "file"],
    tp_paths=["config/master.key", "app/config/credentials/production.key"],
    fp_paths=["config/master.key.example", "docs/master.key.md"],
)
cred(
    "django-secret-key",
    "Django SECRET_KEY setting",
    r"(?:(\bSECRET_KEY)|(django-insecure-))[ \t]{0,3}(?:=[ \t]{0,3}(?:os\.environ\.get\([^)]{0,60},[ \t]{0,3})?[\"']([^\"'\s]{30,128})[\"']|([^\"'\s]{40,128}))",
    ["secret_key", "django-insecure-"],
    ["SECRET_KEY = '%P50%'", "SECRET_KEY = os.environ.get('DJANGO_SECRET_KEY', '%P50%')"],
    ["SECRET_KEY = os.environ['SECRET_KEY']", "SECRET_KEY = get_random_secret_key()", "SECRET_KEY = 'short'"],
    group=3,
    verify="secret-shape",
    tags=["credential-file", "django"],
)
cred(
    "laravel-app-key",
    "Laravel APP_KEY",
    r"(?i)\bAPP_KEY[ \t]{0,3}=[ \t]{0,3}[\"']?(base64:[A-Za-z0-9+/]{43}=)",
    ["app_key"],
    ["APP_KEY=base64:%b43%="],
    ["APP_KEY=", "APP_KEY=base64:%b20%="],
    verify=None,
    confidence="high",
)
cred(
    "wordpress-auth-salt",
    "WordPress authentication key / salt in wp-config.php",
    r"(?i)\bdefine\([ \t]{0,3}['\"](?:AUTH|SECURE_AUTH|LOGGED_IN|NONCE)_(?:KEY|SALT)['\"][ \t]{0,20},[ \t]{0,20}'([^']{32,128})\x27",
    ["define("],
    ["define( 'AUTH_KEY',         '%P64%' );", "define('NONCE_SALT', '%X64%');"],
    ["define( 'AUTH_KEY',         'put your unique phrase here' );", "define('AUTH_KEY', getenv('AUTH_KEY'));"],
    verify="secret-shape",
    allowlists=[{"stopwords": PLACEHOLDER_STOPWORDS + ["unique phrase"]}],
)
cred(
    "wordpress-db-password",
    "WordPress DB_PASSWORD in wp-config.php",
    r"(?i)\bdefine\([ \t]{0,3}['\"]DB_PASSWORD['\"][ \t]{0,20},[ \t]{0,20}['\"]([^'\"]{3,128})['\"]",
    ["db_password"],
    ["define( 'DB_PASSWORD', '%P16%' );"],
    ["define( 'DB_PASSWORD', 'password_here' );", "define( 'DB_PASSWORD', getenv('DB_PASSWORD') );"],
    tp_low=["define( 'DB_PASSWORD', 'wp123' );"],
)
cred(
    "terraform-state-secret",
    "Sensitive attribute in a Terraform state file",
    r"\"(?:(password)|(master_password)|(admin_password)|(secret)|(client_secret)|(access_key)|(secret_key)|(private_key)|(token))\"[ \t]{0,3}:[ \t]{0,3}\"([^\"\s$]{8,256})\"",
    ["\"password\"", "\"master_password\"", "\"admin_password\"", "\"secret\"", "\"client_secret\"", "\"access_key\"", "\"secret_key\"",
     "\"private_key\"", "\"token\""],
    ['          "master_password": "%P20%",'],
    ['          "master_password": null,', '          "password": "",'],
    group=10,
    path=r"(?i)\.tfstate(?:\.backup)?$",
    example_path="terraform.tfstate",
)
cred(
    "tfvars-secret",
    "Secret value in a Terraform .tfvars file",
    r"(?i)\b[\w-]{0,40}(?:(password)|(secret)|(token)|(api_key)|(access_key))[\w-]{0,20}[ \t]{0,3}=[ \t]{0,3}\"([^\"\s$]{8,256})\"",
    ["password", "secret", "token", "api_key", "access_key"],
    ['db_password = "%P16%"', 'datadog_api_key = "%h32%"'],
    ['db_password = ""', 'db_password = "${var.pw}"'],
    group=6,
    path=r"(?i)\.tfvars(?:\.json)?$",
    example_path="prod.tfvars",
)
cred(
    "dotenv-secret",
    "Secret in a .env file",
    r"(?im)^[ \t]{0,8}(?:export[ \t]{1,3})?[A-Z0-9_]{0,40}(?:(PASSWORD)|(PASSWD)|(PASS)|(PWD)|(SECRET)|(TOKEN)|(API_KEY)|(APIKEY)|(ACCESS_KEY)|(PRIVATE_KEY)|(AUTH))[A-Z0-9_]{0,30}[ \t]{0,3}=[ \t]{0,3}[\"']?([^\s\"'$#]{6,256})",
    ["password", "passwd", "pass", "pwd", "secret", "token", "api_key", "apikey", "access_key", "private_key", "auth"],
    ["MAIL_PASSWORD=%P14%", "export STRIPE_SECRET=%X32%", "REDIS_AUTH='%X24%'"],
    ["MAIL_PASSWORD=", "MAIL_PASSWORD=${SMTP_PASSWORD}", "TOKEN_TTL=3600"],
    group=12,
    path=r"(?i)(?:^|/)\.env(?:\.[\w-]{1,30})?$",
    example_path=".env.production",
    tp_low=["DB_PASS=X9k!p2"],
    allowlists=_PW_ALLOW + [{"description": "numbers, booleans, identifiers", "regexes": [r"^[0-9.]+$", r"(?i:^(?:true|false|null|none|yes|no|on|off)$)"] + IDENTIFIER_REGEXES + CODE_VALUE_REGEXES}],
)

# ==================================================================================================
section("generic")

tok(
    "jwt",
    "JSON Web Token",
    r"\b(eyJ[A-Za-z0-9_-]{15,1000}\.eyJ[A-Za-z0-9_-]{15,1000}\.[A-Za-z0-9_-]{0,1000})" + END,
    ["eyj"],
    [
        "Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ%u60%.%u43%",
        'SUPABASE_SERVICE_ROLE_KEY="eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ%u80%.%u43%"',
    ],
    ["eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9", "eyJ0eXAiOiJKV1Qi.notajwt"],
    verify="jwt",
    tp_low=["token: eyJ%u40%.eyJ%u60%.%u43%"],
)
tok(
    "curl-auth-header",
    "Authorization header with a credential in a curl command",
    r"(?i)\bcurl\b[^\n]{0,200}?-(?:H|-header)\s{1,5}['\"]?(?:authorization:\s{0,5}(?:bearer|token|basic|apikey)\s{1,5}|x-api-key:\s{0,5}|api-key:\s{0,5}|private-token:\s{0,5})([A-Za-z0-9._~+/=-]{16,400})",
    ["curl"],
    ['curl -s -H "Authorization: Bearer %X40%" https://api.internal/v1/items', "curl -H 'X-Api-Key: %X32%' https://api.x.io"],
    ['curl -H "Authorization: Bearer $TOKEN" https://api.internal', 'curl -H "Content-Type: application/json" https://api.internal'],
    entropy=3.2,
    group=1,
    allowlists=[{"stopwords": PLACEHOLDER_STOPWORDS}],
    confidence="medium",
    verify="secret-shape",
)
tok(
    "curl-auth-user",
    "user:password credentials in a curl command",
    r"(?i)\bcurl\b[^\n]{0,200}?\s(?:-u|--user)\s{1,5}['\"]?([A-Za-z0-9._@+-]{1,64}:[^\s'\"$]{3,128})",
    ["curl"],
    ["curl -u admin:%P16% https://jenkins.internal/api/json", "curl --user 'ci:%X24%' https://nexus.internal"],
    ["curl -u admin:$PASSWORD https://x", "curl -u user:password https://x"],
    entropy=2,
    group=1,
    allowlists=[{"stopwords": ["password", "passwd", "changeme", "example", "placeholder", "xxxx", "dummy"]}],
    confidence="medium",
    verify="password-strength",
)
tok(
    "authorization-basic-header",
    "HTTP Basic authorization header value",
    r"(?i)\bauthorization[\s'\"\x60]{0,3}[:=,][\s'\"\x60]{0,3}basic\s{1,3}([A-Za-z0-9+/]{12,400}={0,2})",
    ["authorization"],
    ["Authorization: Basic %basic%"],
    ["Authorization: Basic ${CREDS}", "Authorization: Bearer %X40%"],
    entropy=3.5,
    group=1,
    confidence="medium",
    verify="base64-user-pass",
    # base64 of random bytes; of `bob:hamster` (a weak password, as in tests of Basic parsing)
    tp_low=["Authorization: Basic %b40%==", "req.set('Authorization', 'Basic Ym9iOmhhbXN0ZXI=')"],
)
tok(
    "kubernetes-secret-yaml",
    "Kubernetes Secret manifest with inline data",
    r"(?i)\bkind:\s{0,3}['\"]?Secret['\"]?[\s\S]{0,400}?\n(?:data|stringData):\s{0,3}\n[\s\S]{0,200}?[\w.-]{1,60}:\s{1,3}['\"]?([A-Za-z0-9+/]{16,400}={0,2})",
    ["secret"],
    ["apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ntype: Opaque\ndata:\n  password: %b32%\n"],
    ["apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: db\ndata:\n  password: %b32%\n", "kind: Secret\nmetadata:\n  name: db\n"],
    entropy=3.5,
    group=1,
    confidence="medium",
)

_GENERIC_ALLOW = [
    {
        "description": "placeholders and obviously fake values",
        "stopwords": PLACEHOLDER_STOPWORDS
        + ["your_", "your-", "yourkey", "yourtoken", "insert", "replace", "sample", "fake", "mock", "foobar", "lorem", "todo",
           "notreal", "not_a_", "not-a-", "secret_here", "token_here", "key_here", "undefined", "null", "12345678", "abcdefgh"],
    },
    {
        "description": "identifiers, references and non-secrets",
        "regexes": [
            r"^[A-Za-z_.-]+$",
            r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
            r"(?i:^(?:process\.env|os\.environ|env|config|settings|self|this|params|props|request|req|ctx|context|vars?|secrets|inputs)\.)",
            r"^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*){2,}$",
            r"^(?:[0-9]+|[0-9.]+)$",
            r"(?i:^(?:sha(?:1|256|384|512)|md5)[-:])",
            # host names and module paths (`github.com/acme/app`, `api.example.org/v1`)
            r"^(?:[a-z0-9-]+\.)+[a-z]{2,}(?:/[A-Za-z0-9_.-]+)*/?$",
        ]
        + IDENTIFIER_REGEXES
        + CODE_VALUE_REGEXES,
    },
    {
        "description": "public keys are not secrets",
        "regexTarget": "line",
        "regexes": [r"(?i:pub(?:lic)?[_.-]?key)"],
    },
    {
        "description": "digests named as such (checksums, commit ids, integrity hashes)",
        "regexTarget": "line",
        "regexes": [r"(?i:(?:sha-?(?:1|224|256|384|512)|md5|checksum|digest|commit|integrity)[\w.-]{0,30}?[ \t'\"\x60\]]{0,3}(?:=|:=|=>|:|\?=)[ \t'\"\x60]{0,5}[0-9a-f]{32,128}\b)",
                    r"(?i:(?:key|token|secret)[\w.-]{0,20}?[ \t'\"\x60\]]{0,3}(?:=|:)[ \t'\"\x60]{0,5}[0-9a-f]{40}[ \t'\"\x60]{0,3}[;,]?[ \t]{0,3}(?:#|//)[^\n]{0,40}(?:sha|commit|hash))"],
    },
    {
        "description": "key ids, names and sizes are not secrets",
        "regexTarget": "match",
        "regexes": [r"(?i:^key[_.-]?(?:id|name|size|len|length|type|usage|alias|version|path|file)\b)"],
    },
]
add(
    "generic-api-key",
    "Generic API key, token or secret assignment",
    r"(?i)(?:key|token|secret|credential|credentials)[\w.-]{0,20}?[ \t'\"\x60\]]{0,3}(?:=|:=|=>|:|\?=|>)[ \t'\"\x60]{0,5}([A-Za-z0-9+/_.=~-]{16,128})" + VEND,
    ["key", "token", "secret", "credential"],
    ["api_key = '%X32%'", '"client_secret": "%u40%"', "SERVICE_TOKEN=%X24%.%X12%", '<string name="maps_api_token">%X36%</string>',
     # a vendor token made of snake-case-joined parts, the last one random: not an identifier
     "ACME_API_KEY=acme_live_%h48%"],
    [
        "api_key = 'your-api-key-here-0000'",
        "secret_key = os.environ.get('SECRET_KEY')",
        'token: "${{ secrets.DEPLOY_TOKEN }}"',
        "cache_key = user_profile_settings_cache",
        "api_key = 'xxxxxxxxxxxxxxxxxxxxxxxx'",
        'keyFingerprint: "aaaaaaaaaaaaaaaaaa"',
        "primary_key = 3fa85f64-5717-4562-b3fc-2c963f66afa6",
        "KEY_MAX: nl80211_key_attributes",
        "KEY_USAGE = stack_st_ASN1_OBJECT;",
        "key: PrivatePkcs8KeyDer<'static>",
        "secret_len = MLKEM512_SHARED_SECRET_LEN;",
        "[`Token`]: ../struct.Token.html",
        "NL80211_KEY_MAX = __NL80211_KEY_AFTER_LAST - 1",
        "const pubkey256 = 'SIXvRyDmBJSgatgTQRGbInBaAK+hZOQ18UmrSwnDlK8=';",
        "public_key: 'MCowBQYDK2VwAyEAq3Z8Vb1kYpR7tW2xN9mC4sL0aF6dJ5hG8eK1uI3oP7Q='",
        'let key = "github.com/acme/app";',
        "credential-osxkeychain: contrib/credential/osxkeychain/git-credential-osxkeychain",
        "CREDENTIALS = ~/.git-credentials",
        '{"key":"fsync/writeout-only","value":1}',
        "Key: section.sub=section.val1",
        "SECRET_TOKEN_NAME = 'deploy-token-for-staging'",
        'token_version = "1.22.4-beta.3"',
        "api_key_file = secrets/api-key.conf",
        "KeyEx = win32api.RegOpenKeyEx",
        "openssl pkcs8 -topk8 -in private-key.pem > rsa-2048-private-key.pk8",
        "ARG TOKEN_SHA256=%h64%",
        "commit_token = '%h40%'  # sha1 of the fixture",
    ],
    entropy=3.5,
    group=1,
    allowlists=_GENERIC_ALLOW,
    confidence="medium",
    verify="secret-shape",
    tp_low=[
        "auth_token = 'aB+cD/eF+gH/iJ+kL/mN'",
        # base64 of plain words (`another-token`, `alice:secret-passwd`): test data, not a key
        "test_config http.extraHeader credential=YW5vdGhlci10b2tlbg==",
        "credential=YWxpY2U6c2VjcmV0LXBhc3N3ZA==",
    ],
)
add(
    "generic-password",
    "Generic password assignment",
    r"(?i)(?:(password)|(passwd)|(passphrase)|(pwd))[\w.-]{0,20}?[ \t'\"\x60\]]{0,3}(?:=|:=|=>|:)[ \t'\"\x60]{0,5}([^\s'\"\x60;,<>$(){}\[\]\\]{8,64})" + VEND,
    ["password", "passwd", "passphrase", "pwd"],
    ["DB_PASSWORD=%P16%", "password: \"%P20%\"", "smtp_passwd = '%X12%'"],
    [
        "password: ${DB_PASSWORD}",
        "DB_PASSWORD=changeme123",
        "password = 'password123'",
        "password_field = forms.CharField",
        "password: str",
        "passwd = self.config.db.passwd",
        'password: "********"',
        "password_len: ::std::os::raw::c_int,",
        "Password => io::ErrorKind::InvalidInput,",
        "password_encryption = scram-sha-256",
        "ssl_passphrase_command = ''\n#ssl_passphrase_command_supports_reload = off",
        "PASSWORD_FILE = ~/.config/app/password.txt",
        "password_reset_url: account/password-reset/confirm",
    ],
    entropy=3.0,
    group=5,
    allowlists=[
        {
            "description": "placeholders",
            "stopwords": PLACEHOLDER_STOPWORDS
            + ["password", "passwd", "your_", "your-", "secret", "****", "test", "sample", "qwerty", "letmein", "12345", "none", "null",
               "undefined", "required", "hidden", "masked", "encrypted"],
        },
        {
            "description": "identifiers and references",
            "regexes": [
                r"^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+$",
                r"(?i:^(?:process\.env|os\.environ|env|config|settings|self|this|params|props|request|req|ctx|context|vars?|secrets|inputs)\.)",
                r"^[A-Za-z]+$",
                r"(?i:^(?:true|false|null|nil|none|yes|no|on|off)(?:$|\|))",
                r"(?i:^(?:scram|sha|md5|bcrypt|argon2|pbkdf2|crypt|plain)[\w-]*$)",
            ]
            + IDENTIFIER_REGEXES
            + CODE_VALUE_REGEXES,
        },
    ],
    confidence="medium",
    verify="password-strength",
    tp_low=["mysql_password = 'ros3bud7x'"],
)

# ==================================================================================================
# Rules added after the held-out evaluation (testdata/accuracy/heldout) showed these misses.
section("credfile")

cred(
    "htpasswd-sha1-password-hash",
    "Apache htpasswd {SHA} password hash",
    r"(?m)^[A-Za-z0-9._@-]{1,64}:(\{SHA\}[A-Za-z0-9+/]{27}=)",
    ["{sha}"],
    ["admin:{SHA}%b27%=", "deploy:{SHA}%b27%=\nops:$apr1$%X8%$%X22%"],
    ["admin:{SHA}%b10%=", "hash = {SHA}%b27%="],
    verify=None,
    tags=["password-hash"],
    allowlists=_CRYPT_ALLOW,
)
cred(
    "phpass-password-hash",
    "phpass portable password hash (WordPress, phpBB, Drupal 7 dumps)",
    r"(?:^|[\s\"'(,:=\x60])(\$[PH]\$[./A-Za-z0-9]{31})(?:[:\s\"',)]|$)",
    ["$p$", "$h$"],
    ["INSERT INTO `wp_users` VALUES (1,'admin','$P$%X31%','admin');", "admin:$H$%X31%"],
    ["echo $P$%X10%", "price: $P$ per unit"],
    verify=None,
    tags=["password-hash"],
    allowlists=_CRYPT_ALLOW,
)
cred(
    "pbkdf2-argon2-password-hash",
    "Django PBKDF2 or Argon2 (PHC string) password hash",
    r"(?:^|[\s\"'(,:=\x60])((?:(pbkdf2_sha(?:256|1)\$[0-9]{4,7}\$[A-Za-z0-9./+]{8,64}\$[A-Za-z0-9+/]{27,88}={0,2})|((?:argon2)?\$argon2(?:id|i|d)\$v=[0-9]{2}\$m=[0-9]{1,7},t=[0-9]{1,3},p=[0-9]{1,3}\$[A-Za-z0-9+/]{11,64}\$[A-Za-z0-9+/]{22,128})))(?:[:\s\"',)]|$)",
    ["pbkdf2_sha", "$argon2"],
    ["1\tadmin\tpbkdf2_sha256$600000$%X22%$%b43%=", "INSERT INTO users VALUES (1, 'ops', '$argon2id$v=19$m=65536,t=3,p=4$%b22%$%b43%');",
     "password = 'argon2$argon2id$v=19$m=102400,t=2,p=8$%X22%$%b43%'"],
    ["PASSWORD_HASHERS = ['django.contrib.auth.hashers.PBKDF2PasswordHasher']", "pbkdf2_sha256$600000$", "$argon2id$v=19$m=65536,t=3,p=4$"],
    verify=None,
    tags=["password-hash"],
    allowlists=_CRYPT_ALLOW,
)
cred(
    "sql-create-user-password",
    "Password in an SQL CREATE / ALTER USER or ROLE statement",
    r"\b(?:CREATE|ALTER|create|alter)[ \t](?:USER|ROLE|LOGIN|user|role|login)[ \t][^;\n]{0,80}?[ \t](?:(PASSWORD|password)|(IDENTIFIED BY|identified by))[ \t]{0,3}=?[ \t]{0,3}'([^'\s]{3,128})\x27",
    [f"{verb}{sep}{what}" for verb in ("create", "alter") for sep in (" ", "\t") for what in ("user", "role", "login")],
    ["CREATE USER reporting WITH PASSWORD '%X16%';", "CREATE USER 'app'@'%' IDENTIFIED BY '%P14%';",
     "ALTER ROLE app_user WITH LOGIN ENCRYPTED PASSWORD '%X20%';", "CREATE LOGIN app WITH PASSWORD = '%X18%';"],
    ["ALTER ROLE app_user WITH LOGIN PASSWORD :'app_password';", "CREATE USER app WITH PASSWORD '${DB_PASSWORD}';",
     "CREATE USER reporting WITH PASSWORD 'changeme';", "CREATE ROLE readonly NOLOGIN;", "CREATE ROLE lease LOGIN PASSWORD '…';",
     "CREATE USER app WITH PASSWORD '...';"],
    group=3,
    allowlists=_PW_ALLOW + [{"description": "elided values", "regexes": [r"^(?:\.{3,}|…)$"]}],
    tp_low=["CREATE USER app IDENTIFIED BY 'app123';"],
)
cred(
    "mysql-cli-password",
    "Password on a mysql / mysqldump command line",
    r"\b(?:mysql|mysqldump|mysqladmin|mysqlimport|mysqlsh|mariadb|mariadb-dump)[ \t][^\n;|&]{0,120}?[ \t](?:-p|--password=)['\"]?([^\s'\"$][^\s'\"$;|&]{2,127})",
    ["mysql", "mariadb"],
    ["mysql -u root -p'%P14%' -e 'CREATE DATABASE app'", "mysqldump --user=backup --password=%X16% shop > shop.sql"],
    ["mysql -u root -p -h db.internal", "mysql -u root -p\"$MYSQL_PASSWORD\" app", "mysql -h db -P 3306 -u app -p",
     "mysql -u root -pchangeme"],
    tp_low=["mysql -u root -proot app"],
)
cred(
    "datadog-agent-config-api-key",
    "API or application key in a Datadog agent configuration (datadog.yaml)",
    r"(?m)^[ \t]{0,8}(?:(api_key)|(app_key))[ \t]{0,3}:[ \t]{0,3}['\"]?([a-f0-9]{32}|[a-f0-9]{40})['\"]?[ \t]{0,8}$",
    ["api_key", "app_key"],
    ["api_key: %h32%\nsite: datadoghq.eu\n", "app_key: \"%h40%\""],
    ["api_key: ENC[datadog_api_key]", "api_key: <DATADOG_API_KEY>", "api_key: %h20%"],
    group=3,
    verify=None,
    path=r"(?i)(?:^|/)datadog(?:-agent)?\.ya?ml$",
    example_path="datadog.yaml",
    tags=["saas"],
)

section("generic")

add(
    "go-byte-slice-secret",
    "Secret, key or token assigned as a Go byte-slice literal",
    r"(?i)(?:key|token|secret|password|passwd)\w{0,20}[ \t]{0,3}(?::=|=|:)[ \t]{0,3}\[\]byte\(\"([^\"\s]{16,128})\"\)",
    ["[]byte("],
    ['var webhookSecret = []byte("%X32%")', 'jwtKey := []byte("%u40%")', 'cfg := Config{SigningKey: []byte("%X24%")}'],
    ['var webhookSecret = []byte(os.Getenv("WEBHOOK_SECRET"))', 'key := []byte("your-secret-key-here")', 'tokenPrefix := []byte("Bearer ")',
     'var keyName = []byte("x-api-key-header-name")'],
    entropy=3.5,
    group=1,
    allowlists=_GENERIC_ALLOW,
    confidence="medium",
    verify="secret-shape",
)

# ==================================================================================================
GLOBAL_ALLOWLISTS = [
    {
        "description": "vendored, generated and binary-asset paths (the dir walker does not enter them)",
        "paths": [
            r"(?:^|/)\.git$",
            r"(?:^|/)\.git/",
            r"(?:^|/)node_modules(?:/|$)",
            r"(?:^|/)vendor(?:/|$)",
            r"(?:^|/)bower_components(?:/|$)",
            r"(?:^|/)(?:\.venv|venv|site-packages|__pycache__)(?:/|$)",
            r"(?:^|/)(?:Cargo\.lock|package-lock\.json|npm-shrinkwrap\.json|yarn\.lock|pnpm-lock\.yaml|bun\.lockb?|poetry\.lock|Pipfile\.lock|uv\.lock|pdm\.lock|composer\.lock|Gemfile\.lock|go\.sum|go\.work\.sum|gradle\.lockfile|packages\.lock\.json|paket\.lock|mix\.lock|pubspec\.lock|Podfile\.lock|Package\.resolved|flake\.lock|conan\.lock|deno\.lock)$",
            r"\.min\.(?:js|css|mjs)$",
            r"\.(?:js|mjs|css)\.map$",
            r"(?i:\.(?:png|jpe?g|gif|bmp|tiff?|ico|icns|webp|avif|heic|svg|psd|eot|otf|ttf|woff2?)$)",
        ],
    },
    {
        "description": "placeholder secrets",
        "stopwords": ["example", "xxxxxx", "changeme", "placeholder", "redacted", "dummy"],
    },
]
