# Our own XSDs, installed for 'validate --strict' (found at run time in
# $(pkgdatadir)/schemas, or $OVFDEPLOY_SCHEMADIR in the build tree).
schemasdir = $(pkgdatadir)/schemas
dist_schemas_DATA = $(wildcard $(srcdir)/schemas/*.xsd)
