# Our own XSDs, installed for 'validate --strict' (found at run time in
# $(pkgdatadir)/schemas, or $OVFDEPLOY_SCHEMADIR in the build tree).
schemasdir = $(pkgdatadir)/schemas
dist_schemas_DATA = \
	schemas/cim-bootconfig-2.xsd \
	schemas/cim-bootsource-2.xsd \
	schemas/cim-common.xsd \
	schemas/cim-epasd-2.xsd \
	schemas/cim-rasd-1.xsd \
	schemas/cim-rasd-2.xsd \
	schemas/cim-sasd-2.xsd \
	schemas/cim-vssd-1.xsd \
	schemas/cim-vssd-2.xsd \
	schemas/ovf-envelope-1.xsd \
	schemas/ovf-envelope-2.xsd \
	schemas/ovf-environment-1.xsd \
	schemas/xml.xsd \
	schemas/xmldsig-core.xsd \
	schemas/xmlenc.xsd \
	schemas/xmlenc11.xsd

# Our schemas must give the same strict verdict as the DMTF reference
# schemas on every descriptor of ../shared/corpus (skipped when absent).
TESTS += tests/schema/compare-reference.sh
EXTRA_DIST += tests/schema/compare-reference.sh
