# Lookalike app image (CPU). The catalogue images are not baked in: mount them and an index volume.
#
#   docker build -t lookalike .
#   docker run -p 8501:8501 -v /path/to/shared/data:/data:ro -v lookalike-index:/index lookalike
#
# On start it serves Streamlit on :8501 at once and brings the demo index in /index up to date in the background
# (incremental; the first time, the page shows the build's progress). Both demo catalogues are offered.
FROM python:3.11-slim-bookworm

# libgl1/libglib2.0-0: OpenCV (pulled in by Ultralytics); fonts: box labels
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    YOLO_OFFLINE=1 \
    YOLO_CONFIG_DIR=/tmp/ultralytics \
    LOOKALIKE_DATA=/data \
    LOOKALIKE_INDEXES=/index \
    PYTHON=python

WORKDIR /app
COPY requirements.txt .
# CPU-only torch wheels keep the image ~5 GB smaller than the default CUDA build; same versions as requirements.txt
RUN pip install torch==2.14.1 torchvision==0.29.1 --index-url https://download.pytorch.org/whl/cpu \
    && pip install -r requirements.txt

COPY engine/ engine/
COPY catalog/ catalog/
COPY training/ training/
COPY pages/ pages/
COPY scripts/ scripts/
COPY models/ models/
COPY .streamlit/ .streamlit/
COPY assets/ assets/
COPY app.py pyproject.toml ./
# The project itself, editable as scripts/setup.sh installs it: its packages import from anywhere, `lookalike` is on PATH
RUN pip install --no-deps --no-build-isolation -e . && lookalike --help >/dev/null

RUN useradd --create-home --uid 1000 lookalike && mkdir -p /index && chown lookalike /index
USER lookalike
VOLUME ["/index"]
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=600s CMD python -c \
    "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4)"
ENTRYPOINT ["scripts/serve.sh", "--server.address=0.0.0.0", "--server.port=8501"]
