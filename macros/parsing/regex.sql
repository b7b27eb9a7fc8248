{#-
    Regular-expression helpers. Engines spell regex matching differently, so every model
    calls these instead of a dialect's function. DuckDB is the default implementation.
-#}

{% macro regex_matches(expression, pattern) -%}
    {{ return(adapter.dispatch('regex_matches', 'audience')(expression, pattern)) }}
{%- endmacro %}

{% macro default__regex_matches(expression, pattern) -%}
    regexp_full_match({{ expression }}, '{{ pattern }}')
{%- endmacro %}

{#-
    The patterns are written in the flavour every engine shares (RE2, PostgreSQL's ARE, Java),
    except the POSIX class `[:space:]`, which RE2 reads as ASCII whitespace: PostgreSQL follows
    the database's locale and Java has no POSIX classes inside brackets, so those variants
    spell the same six characters out. The match must cover the whole text: PostgreSQL's `$`
    is the end of the text; Java's `$` also matches before a final line break, so Spark
    anchors with `\z`.
-#}
{% macro postgres__regex_matches(expression, pattern) -%}
    ({{ expression }} ~ '^(?:{{ pattern | replace('[:space:]', ' \\t\\n\\v\\f\\r') }})$')
{%- endmacro %}

{% macro spark__regex_matches(expression, pattern) -%}
    ({{ expression }} rlike '^(?:{{ pattern | replace('[:space:]', ' \\\\t\\\\n\\\\x0B\\\\f\\\\r') }})\\z')
{%- endmacro %}
