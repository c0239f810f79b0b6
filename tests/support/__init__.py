"""Code the tests share: tiny random models, a toy corpus, random poses. Not part of any shipped package."""
