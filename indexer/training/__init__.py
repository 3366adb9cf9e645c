"""Training and fine-tuning of CLIP models on map–caption pairs: captions, losses, the training
loop, WiSE-FT interpolation, checkpoints and model cards."""
