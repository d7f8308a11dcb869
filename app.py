"""Pilcrow: the chat UI and the HTTP API over one index, in one process.

Run `python app.py --help` for the options; the first run builds the index from the
bundled sample corpus.
"""
from __future__ import annotations

import argparse
import ipaddress
import os
import sys

# Before anything imports transformers: models come from installed packages, never the hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

EPILOG = """examples:
  python app.py                            # http://127.0.0.1:7860; builds var/index on first run
  python app.py --generator extractive     # quotes the best sentences: fast, no model
  python app.py --generator transformers   # the local model (SmolLM2) picks the sentences to quote
  python app.py --port 8080 --index var/full --corpus data/corpus/cablegate-wl-mirror.csv.gz
  PILCROW_API_TOKEN=s3cret python app.py --host 0.0.0.0   # on the network; /api needs the token
  curl -s localhost:7860/api/ask -H 'content-type: application/json' \\
       -d '{"question": "How did the new Zhejiang policy change hukou rules for migrant workers?"}'
  curl -sN 'localhost:7860/api/ask?stream=true' -H 'content-type: application/json' \\
       -d '{"question": "What do labor NGOs do for migrant workers?"}'
  curl -s 'localhost:7860/api/search?q=hukou&k=3'
  curl -s localhost:7860/api/cables/09SHANGHAI374/paragraphs/9

environment: PILCROW_INDEX, PILCROW_GENERATOR (defaults for --index, --generator),
PILCROW_API_TOKEN (bearer token required on /api/* when set). API schema: /openapi.json.
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="app.py", description="Serve Pilcrow's chat UI (/) and HTTP API (/api).",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to bind (default 127.0.0.1; 0.0.0.0 exposes it)")
    parser.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    parser.add_argument("--index",
                        help="index folder (env PILCROW_INDEX, default var/index)")
    parser.add_argument("--generator",
                        help="default generator: extractive, transformers, llama-cpp, openai "
                             "(env PILCROW_GENERATOR, default extractive)")
    parser.add_argument("--model", help="a model of your own: a .gguf file (run by llama-cpp when installed, else "
                     "transformers) or a transformers folder (env PILCROW_MODEL)")
    parser.add_argument("--corpus", default="data/cables",
                        help="what to index when the index folder holds none "
                             "(default data/cables, the sample corpus)")
    return parser.parse_args(argv)


def is_loopback(host: str) -> bool:
    """
    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("0.0.0.0")
    (True, True, False)
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import uvicorn

    from embeddings import build_index
    from cables.errors import IndexNotFoundError, PilcrowError
    from qa import Assistant, Settings, generator_for
    from web import create_app

    try:
        settings = Settings.from_env(index_dir=args.index, model=args.model,
                                     generator=args.generator or generator_for(args.model))
        if not is_loopback(args.host) and settings.api_token is None:
            print(f"warning: serving on {args.host} without PILCROW_API_TOKEN: anyone who can "
                  "reach this port can use the API. Set PILCROW_API_TOKEN to require a token.",
                  file=sys.stderr)
        try:
            assistant = Assistant(settings)
        except IndexNotFoundError:
            print(f"No index in {settings.index_dir}: building it from {args.corpus} "
                  "(first run)...", file=sys.stderr)
            build_index([args.corpus], settings.index_dir, progress=True)
            assistant = Assistant(settings)
    except PilcrowError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    # The local model loads (or, on the first run, converts) while the server starts, not
    # on the first question: the default generator's, and the UI's transformers option.
    assistant.preload(list(dict.fromkeys([settings.generator, "transformers"])))
    app = create_app(settings, assistant=assistant)
    print(f"Pilcrow: chat at http://{args.host}:{args.port}/ , API at /api "
          f"(schema /openapi.json), generator {settings.generator}", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
