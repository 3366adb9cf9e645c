#!/usr/bin/env bash
# The OCR engines for the pipeline's `ocr` stage (idempotent; Debian's .debs and uv's wheels are
# cached after the first time):
#   - Tesseract 5 from Debian, with the language packs of the collections' map languages
#     (English, French, German, Spanish, Dutch, Latin, Italian);
#   - the Python `ocr` extra (RapidOCR with its bundled PP-OCRv4 models, pytesseract) into .venv,
#     when .venv exists and lacks it (scripts/bootstrap.sh --dev installs it already).
# The serving install does not need any of this: only machines that read map images do.
set -euo pipefail
cd "$(dirname "$0")/.."
PACKS=(tesseract-ocr tesseract-ocr-eng tesseract-ocr-fra tesseract-ocr-deu tesseract-ocr-spa
       tesseract-ocr-nld tesseract-ocr-lat tesseract-ocr-ita)
missing=()
for pack in "${PACKS[@]}"; do
  dpkg-query -W -f='${Status}' "$pack" 2>/dev/null | grep -q "install ok installed" || missing+=("$pack")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-ocr.sh: installing ${missing[*]} from Debian"
  export DEBIAN_FRONTEND=noninteractive
  # apt-get update only when the package index does not know the packages yet
  apt-cache show tesseract-ocr-lat >/dev/null 2>&1 || apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "install-ocr.sh: $(tesseract --version 2>&1 | head -1), languages: $(tesseract --list-langs 2>/dev/null | tail -n +2 | tr '\n' ' ')"
if [ -x .venv/bin/python ] && ! .venv/bin/python -c "import rapidocr_onnxruntime, pytesseract" 2>/dev/null; then
  echo "install-ocr.sh: installing the ocr extra into .venv"
  export UV_CACHE_DIR="${UV_CACHE_DIR:-$HOME/.cache/uv}"
  grep -E '^(rapidocr-onnxruntime|pytesseract|pyclipper|shapely|opencv-python|six)==' \
    requirements-dev.lock > /tmp/mapsearch-ocr-reqs.txt || true
  uv pip install --quiet --python .venv/bin/python -r /tmp/mapsearch-ocr-reqs.txt
fi
