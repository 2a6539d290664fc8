"""OpenAI-compatible endpoints as models beside the GGUF files (issue 19).

config.py: the endpoints saved in settings.json (never a key); secrets.py: keys in
the keychain or an environment variable; listing.py: `/v1/models` and its cache,
which catalog scans read; remote.py: `RemoteModel`, a `Backend` streaming through
the openai SDK; model_path.py: the `endpoint:NAME/MODEL_ID` paths, for everything that
must tell a remote model apart without importing the SDK (local runs never do).
"""
