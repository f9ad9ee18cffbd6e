# No provider: this module only renders text, so it runs anywhere, offline included (the tests in
# test/deploy apply it on their own to check the cloud-config it writes).
terraform {
  required_version = ">= 1.9"
}
