resource "acme_client" "main" {
  client_id     = "cid-AB12CD34EF56"
  client_secret = "csec-9f8e7d6c5b4a3928"
}

resource "acme_client" "orphan" {
  client_secret = "csec-0a1b2c3d4e5f6071"
}





  client_id = "cid-FAR00000AWAY"
