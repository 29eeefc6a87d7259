"""Answers from retrieved passages: extractive with exact citations, optionally generated."""
