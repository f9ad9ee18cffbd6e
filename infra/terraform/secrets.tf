# Secrets not given as variables are generated once and kept in the state. Letters and digits only:
# they go into a database URL and a .env file without any quoting trouble.

resource "random_password" "admin_token" {
  length  = 48
  special = false
}

resource "random_password" "admin_password" {
  length  = 24
  special = false
}

resource "random_password" "postgres_password" {
  length  = 32
  special = false
}

resource "random_password" "grafana_admin_password" {
  length  = 24
  special = false
}

locals {
  secrets = {
    ADMIN_TOKEN            = coalesce(var.admin_token, random_password.admin_token.result)
    ADMIN_PASSWORD         = coalesce(var.admin_password, random_password.admin_password.result)
    POSTGRES_PASSWORD      = coalesce(var.postgres_password, random_password.postgres_password.result)
    GRAFANA_ADMIN_PASSWORD = coalesce(var.grafana_admin_password, random_password.grafana_admin_password.result)
  }
}
