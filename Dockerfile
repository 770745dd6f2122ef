FROM python:3.11-slim
WORKDIR /app
COPY . .
RUN pip install --no-cache-dir uv && uv sync --frozen && ln -s /app/.venv/bin/inertial /usr/local/bin/inertial
ENV INERTIAL_DATA_DIR=/data
CMD ["inertial", "up"]
