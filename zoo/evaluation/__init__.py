"""Loss terms of any task over a grid of one loss weight (`yoto-evaluate`)."""
