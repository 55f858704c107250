# application settings (fake values for the portcullis/gitleaks differential test)
ACME_KEY = "acme_live_q7w2e9r4t1y8u3i6o5p0a2s7"
ACME_TEST = 'acme_test_z9x8c7v6b5n4m3l2k1j0h9g8'
api_secret = "Zq81LmPw0xRt5VbN7cYd"
hexval = 0f3a9c2e7b1d4f6a8c0e2b4d6f8a1c3e
lowhex = aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbb
beta_tok_0A1B2C3D4E5F60718293
acme_live_m1n2b3v4c5x6z7l8k9j0h1g2 # gitleaks:allow
session_secret = "placeholder_value_0001"
token: "Tk-9d8f7g6h5j4k3l2m1n0b"
