{#-
    Models land in the schema their folder configures (`staging`, `intermediate`, `marts`,
    `raw` for seeds) rather than dbt's default `<target schema>_<custom schema>`, so people
    querying the database find `marts.eligible_audience` where the docs say it is.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
