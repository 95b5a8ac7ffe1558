"""How a FHIR record becomes an episode: one definition (`definition`), in the records IR (`ir`),
run by the Python engine (`python`, the CDS service) and the ibis compiler (`ibis_compile`, the
audit on DuckDB and Spark)."""
