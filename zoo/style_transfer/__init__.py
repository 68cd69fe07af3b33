"""The style-transfer task: one network for every content and style weight, and its tools."""
