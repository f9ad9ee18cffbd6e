# Credentials come from the OCI CLI's configuration file (~/.oci/config), profile
# var.oci_config_profile: nothing secret lives in these files or in terraform.tfvars.
provider "oci" {
  region              = var.region
  config_file_profile = var.oci_config_profile
}
