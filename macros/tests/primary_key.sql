{#-
    Generic test: `column_name` identifies the model's rows - never null, never repeated. The
    grain of a model, checked in one pass over the column instead of dbt's `not_null` and
    `unique` each scanning it. Fails with each repeated value (and its row count) and, when
    any row has no value, one row for null.

        columns:
          - name: customer_id
            data_tests:
              - primary_key
-#}
{% test primary_key(model, column_name) %}

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

{% endtest %}
