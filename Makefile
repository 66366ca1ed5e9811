# Portico: `make run` to try it, `make test` to check it.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
PORT   ?= 8000
LOCALES := de en en_GB es fr it ja nl pt pt_BR sv zh_Hans

.PHONY: setup fonts run test test-postgres lint format messages check-deploy bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Portico needs Python 3.11 or newer (found " + sys.version.split()[0] + ")")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

setup: $(STAMP) fonts

# WeasyPrint (PDFs) needs Pango; PDFs show Japanese and Chinese text only
# with a CJK font (Noto Sans CJK). Both come from the system's packages.
fonts:
	@if ldconfig -p 2>/dev/null | grep -q "libpangoft2-1.0"; then \
		:; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing Pango for WeasyPrint (PDFs)"; \
		apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
			|| { apt-get update && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0; }; \
	else \
		echo "Note: Pango is missing; PDFs cannot be made. Install libpango-1.0-0 and libpangoft2-1.0-0."; \
	fi
	@if fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then \
		:; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing fonts-noto-cjk so PDFs can show Japanese and Chinese text"; \
		apt-get install -y --no-install-recommends fonts-noto-cjk \
			|| { apt-get update && apt-get install -y --no-install-recommends fonts-noto-cjk; }; \
	else \
		echo "Note: no Noto Sans CJK font found; PDFs will not show Japanese or Chinese text."; \
		echo "      Install it as root with: apt-get install fonts-noto-cjk (macOS: brew install --cask font-noto-sans-cjk)"; \
	fi
	@# GNU gettext: only `make messages` and the test that the catalogues hold every
	@# message need it (the compiled catalogues are committed).
	@if command -v xgettext >/dev/null 2>&1; then \
		:; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing gettext for the translation catalogues"; \
		apt-get install -y --no-install-recommends gettext \
			|| { apt-get update && apt-get install -y --no-install-recommends gettext; }; \
	else \
		echo "Note: GNU gettext is missing; make messages cannot run. Install the gettext package."; \
	fi

run: setup
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo --if-empty
	PORT=$(PORT) scripts/run-dev

test: setup
	$(BIN)/pytest

# The same suite against PostgreSQL (pytest-django creates and drops test_<name>).
test-postgres: setup
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test} $(BIN)/pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

messages: setup
	$(BIN)/python manage.py makemessages --no-obsolete $(foreach l,$(LOCALES),-l $(l)) --ignore=.venv --ignore=bench --ignore=staticfiles --ignore=var --ignore=test-artifacts
	$(BIN)/python manage.py compilemessages --ignore=.venv

check-deploy: setup
	DJANGO_SETTINGS_MODULE=config.settings.production \
	SECRET_KEY=check-deploy-only-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFG \
	ALLOWED_HOSTS=portico.example.com \
	$(BIN)/python manage.py check --deploy --fail-level WARNING

bench: setup
	$(BIN)/python bench/customer_list.py

clean:
	rm -rf $(VENV) staticfiles var/portico.sqlite3*
