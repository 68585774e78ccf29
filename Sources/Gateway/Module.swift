// placeholder for first build
