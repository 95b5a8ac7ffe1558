"""How a FHIR record becomes an episode: one definition (`definition`), in the records IR (`ir`),
run by the Python engine (`python`, the CDS service: closures over the JSON values of
`json_values`, the aggregates of `aggregates`, fused by `python_source`) and the ibis compiler
(`ibis_compile`, the audit on DuckDB and Spark)."""
