"""Programs that show the released models and a short training at work (`make demo`)."""
