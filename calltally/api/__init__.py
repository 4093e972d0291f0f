"""The REST API's shell: authentication, pagination, the schema and the router that gathers each
app's ``api/`` endpoints (the API's counterpart of the ``web`` app)."""
