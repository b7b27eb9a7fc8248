{#-
    Generic test: `column_name` identifies the model's rows - never null, never repeated. The
    grain of a model, checked in one pass over the column instead of dbt's `not_null` and
    `unique` each scanning it. Fails with each repeated value (and its row count) and, when
    any row has no value, one row for null (and the count of rows without one).

        columns:
          - name: customer_id
            data_tests:
              - primary_key
-#}
{% test primary_key(model, column_name) %}
    {{ adapter.dispatch('primary_key_failures', 'audience')(model, column_name) }}
{% endtest %}


{#- Any engine: a count per value. On Spark a window over the whole column would run in one
    task; a grouped count runs in all of them. -#}
{% macro default__primary_key_failures(model, column_name) %}

with

value_counts as (

    select
        {{ column_name }} as key_value,
        count(*) as row_count

    from {{ model }}
    group by {{ column_name }}

),

final as (

    select * from value_counts
    where key_value is null or row_count > 1

)

select * from final

{% endmacro %}


{#- DuckDB: the column sorted once, each value compared with the one before it. A hash table
    of every distinct value (the grouped count) does not fit a few GB at 100 million unique
    keys - DuckDB cannot spill that aggregate and fails with out of memory - while its sort
    spills, and is faster at every size measured. Same failing rows as default__. -#}
{% macro duckdb__primary_key_failures(model, column_name) %}

with

keys as (

    select {{ column_name }} as key_value

    from {{ model }}

),

sorted_keys as (

    select
        keys.key_value,
        lag(keys.key_value) over (order by keys.key_value) as previous_key_value

    from keys
    where keys.key_value is not null

),

repeated_keys as (

    select
        sorted_keys.key_value,
        count(*) + 1 as row_count

    from sorted_keys
    where sorted_keys.key_value = sorted_keys.previous_key_value
    group by sorted_keys.key_value

),

null_keys as (

    select
        keys.key_value,
        count(*) as row_count

    from keys
    where keys.key_value is null
    group by keys.key_value

),

final as (

    select * from repeated_keys
    union all
    select * from null_keys

)

select * from final

{% endmacro %}
