//! Builds the shop stack as typed CloudFormation and prints the template
