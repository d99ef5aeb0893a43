"""Charts of trackagoat figures: gathered through the domain (`gather`), drawn as Vega-Lite (`specs`), rendered to PNG
(`render`) and returned with the link to the chart App (`result`; the App itself is `server/apps/chart_app.py`)."""
