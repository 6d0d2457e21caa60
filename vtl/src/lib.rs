//! Apache Velocity (VTL) as API Gateway evaluates mapping templates
