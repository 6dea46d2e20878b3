samplesdir = $(pkgdatadir)/samples
dist_samples_DATA = samples/tiny.ovf
