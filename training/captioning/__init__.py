"""Automatic pose text: posecode captions, paircode instructions, their parser, CMU activity phrases."""
