"""Foundation-model image encoders (open_clip, timm, Hugging Face transformers) and the embedding
cache built from them (issue #18; docs/foundation.md)."""
