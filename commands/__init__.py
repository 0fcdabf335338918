"""The `leadrouter` command. It lives outside the core because some commands run Prefect flows."""
