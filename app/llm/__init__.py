"""Candidates from models, and an LLM judge, against any OpenAI-compatible endpoint.

client.py      POST {base_url}/chat/completions: one client, bounded concurrency, retries
endpoints.py   ``LABEL=BASE_URL[,model=ID]`` specs, run parameters, the API key's variable
generate.py    the missing (prompt, label, sample) candidates asked for and landed per prompt
verdicts.py    the judge's prompt template and the strict parsing of its verdict
judge.py       each comparison asked twice, sides swapped; agreeing answers become judgements
"""
