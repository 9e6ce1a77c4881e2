# One image for web, worker and beat (see docker-compose.yml).
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
RUN useradd --system --create-home --home-dir /home/aftersale aftersale

COPY pyproject.toml README.md ./
COPY config ./config
COPY storefront_settings ./storefront_settings
COPY inbound ./inbound
COPY locale ./locale
COPY notifications ./notifications
COPY payments ./payments
COPY tracking ./tracking
COPY dashboard ./dashboard
COPY api ./api
COPY demo ./demo
COPY templates ./templates
COPY static ./static
COPY manage.py ./
RUN pip install --no-cache-dir .

# collectstatic needs settings, not a database or a broker: give it throwaway values.
RUN AFTERSALE_DATA_DIR=/app/.data SECRET_KEY=collectstatic \
    FIELD_ENCRYPTION_KEY=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= \
    DATABASE_URL=postgres://build@localhost/build REDIS_URL=redis://localhost:6379/0 \
    python manage.py collectstatic --noinput \
    && chown -R aftersale /app/.data

USER aftersale
ENV AFTERSALE_DATA_DIR=/app/.data
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
