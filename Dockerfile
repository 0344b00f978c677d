# Kontor: one image for `kontor serve`, `kontor worker` and `kontor migrate` (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# WeasyPrint renders the offer and invoice PDFs with Pango, HarfBuzz and the DejaVu fonts.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
    fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 kontor
WORKDIR /app

# The pinned dependencies in their own layer, rebuilt only when the pins change
# (this installs an empty `kontor` project: its code is not copied yet).
COPY pyproject.toml constraints.txt ./
RUN pip install -c constraints.txt .

# Kontor finds bpmn/ and migrations/ beside its packages (REPO_ROOT in kernel/settings.py,
# MIGRATIONS_DIR in kernel/db.py). A regular install would copy only the packages into
# site-packages and lose both, so the project is installed in place (editable) from /app.
COPY kernel/ kernel/
COPY kontor/ kontor/
COPY runtime/ runtime/
COPY domain/ domain/
COPY api/ api/
COPY flows/ flows/
COPY mailers/ mailers/
COPY migrations/ migrations/
COPY bpmn/ bpmn/
RUN pip install --no-deps -e . \
 && mkdir data && chown kontor:kontor data

USER kontor
EXPOSE 8000
CMD ["kontor", "serve", "--host", "0.0.0.0", "--port", "8000"]
