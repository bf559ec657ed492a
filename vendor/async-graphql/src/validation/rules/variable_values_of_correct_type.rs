//! PATCH(blog-gateway): variable values are coerced before execution (spec 6.1.2
//! "CoerceVariableValues"): a value that does not fit its variable's type, or a required variable
//! not sent, is a request error, not a field error (with no code) once execution reaches it.

use crate::{
    Name, Positioned, QueryPathSegment,
    context::QueryPathNode,
    parser::types::{OperationDefinition, VariableDefinition},
    registry::MetaTypeName,
    validation::{
        utils::is_valid_input_value,
        visitor::{Visitor, VisitorContext},
    },
};

#[derive(Default)]
pub struct VariableValuesOfCorrectType {
    in_unselected_operation: bool,
}

impl<'a> Visitor<'a> for VariableValuesOfCorrectType {
    fn enter_operation_definition(
        &mut self,
        ctx: &mut VisitorContext<'a>,
        name: Option<&'a Name>,
        _operation_definition: &'a Positioned<OperationDefinition>,
    ) {
        self.in_unselected_operation = ctx
            .operation_name
            .is_some_and(|selected| name.is_none_or(|name| name.as_str() != selected));
    }

    fn enter_variable_definition(
        &mut self,
        ctx: &mut VisitorContext<'a>,
        variable_definition: &'a Positioned<VariableDefinition>,
    ) {
        let Some(variables) = ctx.variables else {
            return;
        };
        if self.in_unselected_operation {
            return;
        }
        let definition = &variable_definition.node;
        let type_name = definition.var_type.to_string();
        // An unknown type is reported by `DefaultValuesOfCorrectType`.
        if !ctx
            .registry
            .types
            .contains_key(MetaTypeName::concrete_typename(&type_name))
        {
            return;
        }
        let name = &definition.name.node;
        match variables.get(name) {
            Some(value) => {
                if let Some(reason) = is_valid_input_value(
                    ctx.registry,
                    &type_name,
                    value,
                    QueryPathNode {
                        parent: None,
                        segment: QueryPathSegment::Name(name),
                    },
                ) {
                    ctx.report_error(
                        vec![variable_definition.pos],
                        format!("Variable \"${name}\" got an invalid value {value}: {reason}"),
                    );
                }
            }
            None if !definition.var_type.node.nullable && definition.default_value.is_none() => {
                ctx.report_error(
                    vec![variable_definition.pos],
                    format!("Variable \"${name}\" of required type \"{type_name}\" was not provided."),
                );
            }
            None => {}
        }
    }
}
