"""Who is calling (authentication), may they (authorization), and the record of what they did (audit)."""
