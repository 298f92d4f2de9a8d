"""The app's layers, read from the imports in its source (ast), so an import the wrong way
fails here before it turns into an import cycle or a grab bag.

    library      configuration (settings, urls, wsgi); only library.urls imports the rest
    website      the public pages:           catalog, circulation, core
    circulation  copies and loans:           catalog, api, core
    catalog      books and authors:          api, core (never circulation)
    api, core    the platform apps share:    no app

Inside an app, the domain (models, services, errors, isbn) imports no web layer: no DRF, no
api, views, serializers or urls module. Services raise domain errors (circulation.errors);
the app's api module says which HTTP answer each one becomes.
"""

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "app"

# What each package may import from the project, besides itself.
MAY_IMPORT = {
    "library": set(),
    "api": set(),
    "core": set(),
    "catalog": {"api", "core"},
    "circulation": {"catalog", "api", "core"},
    "website": {"catalog", "circulation", "core"},
}
PACKAGES = set(MAY_IMPORT)
ROUTING = "library.urls"  # routes every app's views: it alone imports across the layers
CONFIGURATION = {
    "library", "library.env", "library.settings", "library.settings_test", "library.startup",
    "library.urls", "library.wsgi",
}
DOMAIN_MODULES = ("models", "services", "errors", "isbn")
FORBIDDEN_IN_DOMAIN = {"rest_framework", "drf_spectacular", "django_filters", "api", "core",
                "website", "library", "django.http", "django.shortcuts", "django.views"}
WEB_MODULE_NAMES = {"api", "views", "serializers", "urls"}


def module_name(path: Path) -> str:
    parts = path.relative_to(APP).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for path in sorted(APP.rglob("*.py"))
        if path.relative_to(APP).parts[0] in PACKAGES and "migrations" not in path.parts
    }


def imported_names(module: str, source: str) -> set[str]:
    """Every module (and `from` name) the source imports, at the top or inside functions."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the importing module's package
                package = module.split(".")[: -node.level]
                base = ".".join([*package, base] if base else package)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(f"{package}.")


def layer_violations(module: str, names: set[str]) -> list[str]:
    package = module.split(".")[0]
    if module == ROUTING:
        return []
    allowed = {package} | MAY_IMPORT[package]
    return sorted(
        f"{module} imports {name}" for name in names
        if name.split(".")[0] in PACKAGES and name.split(".")[0] not in allowed
    )


def web_violations(module: str, names: set[str]) -> list[str]:
    return sorted(
        f"{module} imports {name}" for name in names
        if any(within(name, web) for web in FORBIDDEN_IN_DOMAIN)
        or (name.split(".")[0] in PACKAGES and set(name.split(".")[1:]) & WEB_MODULE_NAMES)
    )


def test_the_checks_see_an_import_the_wrong_way():
    names = imported_names("catalog.models", "def f():\n    from circulation import api\n")
    assert layer_violations("catalog.models", names) == [
        "catalog.models imports circulation", "catalog.models imports circulation.api"]
    assert web_violations("catalog.models", names) == ["catalog.models imports circulation.api"]
    relative = imported_names("circulation.services", "from .api import Conflict\n")
    assert web_violations("circulation.services", relative) == [
        "circulation.services imports circulation.api",
        "circulation.services imports circulation.api.Conflict"]


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_each_package_imports_only_the_layers_below_it(package):
    modules = {name: path for name, path in project_modules().items()
               if within(name, package)}
    assert modules, f"no modules found in app/{package}"
    violations = [
        violation for name, path in modules.items()
        for violation in layer_violations(name, imported_names(name, path.read_text()))
    ]
    assert violations == []


def test_domain_modules_import_no_web_layer():
    domain = {name: path for name, path in project_modules().items()
              if name.split(".")[0] in {"catalog", "circulation"}
              and name.split(".")[-1] in DOMAIN_MODULES}
    assert {"catalog.models", "circulation.models", "circulation.services"} <= domain.keys()
    violations = [
        violation for name, path in domain.items()
        for violation in web_violations(name, imported_names(name, path.read_text()))
    ]
    assert violations == []


def test_the_configuration_package_holds_configuration_only():
    library = {name for name in project_modules() if within(name, "library")}
    assert library == CONFIGURATION


def test_every_package_goes_into_the_image():
    # The image's build context is an allowlist (app/.dockerignore): a package left out of it
    # would pass every test here and fail only in the image.
    allowed = (APP / ".dockerignore").read_text().splitlines()
    assert sorted(p for p in PACKAGES if f"!{p}/" not in allowed) == []


DRF_VIEWS = ("rest_framework.views", "rest_framework.generics", "rest_framework.viewsets",
             "rest_framework.authtoken.views", "rest_framework.decorators")


def loaded_with_drf_views() -> set[str]:
    """The project's modules DRF imports while rest_framework.views is still loading (the
    classes APIView takes from settings), and every project module those import."""
    from django.conf import settings

    keys = ("DEFAULT_AUTHENTICATION_CLASSES", "DEFAULT_PARSER_CLASSES",
            "DEFAULT_RENDERER_CLASSES", "DEFAULT_THROTTLE_CLASSES", "DEFAULT_PERMISSION_CLASSES")
    modules = project_modules()
    pending = [path.rsplit(".", 1)[0] for key in keys for path in settings.REST_FRAMEWORK[key]]
    seen = set()
    while pending:
        module = pending.pop()
        if module in seen or module not in modules:
            continue
        seen.add(module)
        pending.extend(imported_names(module, modules[module].read_text()))
    return seen


def test_what_drf_loads_with_its_views_imports_no_view():
    # Such an import is a cycle: the module would need rest_framework.views half-loaded.
    early = loaded_with_drf_views()
    assert {"core.auth", "core.throttling", "api.parsers", "api.renderers"} <= early
    violations = sorted(
        f"{module} imports {name}" for module in early
        for name in imported_names(module, project_modules()[module].read_text())
        if any(within(name, view) for view in DRF_VIEWS)
    )
    assert violations == []
