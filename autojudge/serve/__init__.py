"""The judge and reward over HTTP: FastAPI app, micro-batcher, `autojudge serve`."""
