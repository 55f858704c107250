var t = "acme_live_g0y4mlv3nd0r3dt0k3n0";
