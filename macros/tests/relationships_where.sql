{#-
    Generic test: every non-null `column_name` of the model (optionally only rows matching
    `from_condition`) exists as `field` in relation `to`. Like dbt's `relationships`, with a
    filter on the child side.

        data_tests:
          - relationships_where:
              arguments:
                to: ref('customer_audience_decisions')
                field: customer_id
                from_condition: "decision = 'eligible'"
-#}
{% test relationships_where(model, column_name, to, field, from_condition='1 = 1') %}

with

child as (

    select {{ column_name }} as child_value
    from {{ model }}
    where {{ column_name }} is not null and ({{ from_condition }})

),

parent as (

    select {{ field }} as parent_value
    from {{ to }}

)

select child.child_value
from child
left join parent
    on child.child_value = parent.parent_value
where parent.parent_value is null

{% endtest %}
