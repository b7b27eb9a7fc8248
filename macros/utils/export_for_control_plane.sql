{#-
    Hands the models a build produced on another engine to the command that runs the control
    plane (`audience run --target spark`): run at the end of every build, it writes each model
    of the staging, intermediate and marts layers that was built (the base models' split lines
    stay in the engine) as Parquet into `<AUDIENCE_EXPORT_DIR>/<schema>/<model>/`, with the
    engine's own SQL, so it works wherever the engine runs (a local session, a Thrift server,
    Databricks) as long as the command can read that folder. Does nothing when
    AUDIENCE_EXPORT_DIR is unset (every plain `dbt build`) or on DuckDB, where the control
    plane reads the models in place.
-#}
{% macro export_for_control_plane(results) -%}
    {%- set export_dir = env_var('AUDIENCE_EXPORT_DIR', '') | trim -%}
    {%- if execute and export_dir and target.type != 'duckdb' -%}
        {%- for result in results
            if result.node.resource_type == 'model'
            and result.status == 'success'
            and result.node.config.schema in ('staging', 'intermediate', 'marts')
            and not result.node.name.startswith('base_') -%}
            {%- set relation = api.Relation.create(
                database=result.node.database,
                schema=result.node.schema,
                identifier=result.node.alias,
            ) -%}
            {%- set folder = export_dir ~ '/' ~ result.node.schema ~ '/' ~ result.node.alias -%}
            {%- do run_query(audience.export_relation_sql(relation, folder)) -%}
        {%- endfor -%}
    {%- endif -%}
    select 1
{%- endmacro %}

{% macro export_relation_sql(relation, folder) -%}
    {{ return(adapter.dispatch('export_relation_sql', 'audience')(relation, folder)) }}
{%- endmacro %}

{% macro default__export_relation_sql(relation, folder) -%}
    {{ exceptions.raise_compiler_error("exporting models for the control plane is not supported on " ~ target.type) }}
{%- endmacro %}

{% macro spark__export_relation_sql(relation, folder) -%}
    insert overwrite directory {{ audience.sql_string(folder) }}
    using parquet
    select * from {{ relation }}
{%- endmacro %}
