var k="acme_live_v3nd0rv3nd0rv3nd0rv3nd";
