"""Chinese text for search: script folding, the jieba tokenizer, the query language, highlights."""
