"""Drop repeated <script> entries from each page.

With Sphinx 7.4, sphinx-thebe and sphinx-togglebutton register their inline configuration
scripts twice (once with filename None, once with ''), and a `const` declared twice is a
JavaScript SyntaxError on every page.
"""


def _dedupe(app, pagename, templatename, context, doctree):
    seen, unique = set(), []
    for script in context.get("script_files", []):
        filename = getattr(script, "filename", str(script)) or ""
        key = (filename, repr(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app):
    app.connect("html-page-context", _dedupe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
